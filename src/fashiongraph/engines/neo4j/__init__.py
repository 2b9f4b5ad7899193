"""The Neo4j engine: the knowledge graph stored in Neo4j, algorithms run by Graph Data Science.

- ``settings``: where the server is (URI, user, password, database) from arguments or the
  environment (``FASHIONGRAPH_NEO4J_URI``, ``FASHIONGRAPH_NEO4J_PORT``, ``NEO4J_USER``,
  ``NEO4J_PASSWORD``, ``FASHIONGRAPH_NEO4J_DATABASE``).
- ``connection``: opening a driver and checking the server, with one clear error per failure.
- ``loader``: the online (driver, batched ``UNWIND``) and bulk (``neo4j-admin database import``)
  paths that put a ``KnowledgeGraph`` into the database.
- ``projection``: the GDS projection (one undirected ``LINK`` type) and the node id map.
- ``walks``: walks with restart as restart-free ``gds.randomWalk`` segments, counted in GDS.
- ``knn``: ``gds.knn.filtered`` on a per-call projection of customers and candidates.
- ``engine``: ``Neo4jEngine``, the ``Engine`` that ties them together.
- ``server``: start, stop and query the local server of ``neo4j/neo4j.sh``.

Nothing here imports the ``neo4j`` driver at module level. docs/neo4j.md has the whole story.
"""
