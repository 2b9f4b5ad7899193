"""fashiongraph: graph-learning recommendations for fashion retail.

The folders tell the story of the data::

    data/          read, validate, normalise H&M tables -> canonical parquet (Dataset)
    graph/         knowledge-graph model and its CSR projection (KnowledgeGraph)
    engines/       embedded numba/scipy kernels; Neo4j + GDS as a second engine
    recommenders/  one interface: fit(context) -> recommend(customers, k)
    evaluation/    temporal split, metrics (MAP@12 ...), report
    serving/       app database, image store, REST API, Streamlit app
"""

__version__ = "0.1.0"
