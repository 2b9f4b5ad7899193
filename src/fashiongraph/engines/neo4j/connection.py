"""Opening a Neo4j driver and checking that the server can run the engine.

Every failure becomes one ``EngineError`` whose message says what went wrong and what to do:
the server is unreachable, the password is wrong, the database does not exist, Graph Data
Science is missing, or the versions do not fit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fashiongraph.engines.neo4j.settings import Neo4jSettings
from fashiongraph.errors import EngineError

log = logging.getLogger(__name__)

REQUIRED_PROCEDURES = (
    "gds.graph.project",
    "gds.graph.exists",
    "gds.graph.drop",
    "gds.graph.nodeProperty.stream",
    "gds.randomWalk.stream",
    "gds.fastRP.mutate",
    "gds.knn.filtered.stream",
)
"""The GDS procedures the engine calls."""

REQUIRED_FUNCTIONS = ("gds.graph.project", "gds.util.nodeProperty")
"""The GDS functions the engine calls (Cypher projection, reading projected vectors)."""

SUPPORTED_NEO4J_MAJOR = (5, 2025, 2026)
"""Neo4j major versions the Cypher of this package runs on (5.x and the calendar versions)."""

MIN_GDS_VERSION = (2, 6)
"""Oldest GDS with every procedure of ``REQUIRED_PROCEDURES`` under these names."""

START_HINT = ("start the bundled server with `make neo4j-start` (or `neo4j/neo4j.sh start`), or "
              "point FASHIONGRAPH_NEO4J_URI at a running Neo4j with GDS")


@dataclass(frozen=True)
class ServerInfo:
    """What the server reported about itself.

    Attributes:
        neo4j_version: e.g. ``"5.26.22"``.
        edition: ``"community"`` or ``"enterprise"``.
        gds_version: e.g. ``"2.13.9"``; ``None`` when GDS is not installed.
        procedures: names of the ``gds.*`` procedures the server has.
        functions: names of the ``gds.*`` functions the server has.
    """

    neo4j_version: str
    edition: str
    gds_version: str | None
    procedures: frozenset[str]
    functions: frozenset[str] = frozenset()


def connect(settings: Neo4jSettings, *, timeout: float = 10.0):
    """Open a driver to ``settings.uri`` and check that it logs in.

    Returns:
        neo4j.Driver, connected (the caller closes it).

    Raises:
        EngineError: unreachable server, wrong password, unknown database.
    """
    import neo4j
    from neo4j.exceptions import AuthError, ClientError, ServiceUnavailable

    driver = neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password),
                                        connection_timeout=timeout,
                                        notifications_min_severity="OFF")
    try:
        driver.verify_connectivity()
        with driver.session(database=settings.database) as session:
            session.run("RETURN 1").consume()
    except ServiceUnavailable as exc:
        driver.close()
        raise EngineError(
            f"Neo4j is not reachable at {settings.uri} (got {_first_line(exc)}): {START_HINT}"
        ) from None
    except AuthError:
        driver.close()
        raise EngineError(
            f"Neo4j at {settings.uri} refused user {settings.user!r}: wrong password (got an "
            "authentication failure); set NEO4J_PASSWORD to the server's password (the bundled "
            "server takes NEO4J_PASSWORD when its database is first created; "
            "`neo4j/neo4j.sh reset` re-creates it)"
        ) from None
    except ClientError as exc:
        driver.close()
        if exc.code == "Neo.ClientError.Database.DatabaseNotFound":
            raise EngineError(
                f"Neo4j at {settings.uri} has no database {settings.database!r} (got "
                f"{exc.code}); set FASHIONGRAPH_NEO4J_DATABASE to an existing database "
                "(community servers have only 'neo4j')"
            ) from None
        raise EngineError(
            f"Neo4j at {settings.uri} rejected the connection (got {exc.code}: "
            f"{_first_line(exc)})"
        ) from None
    except Exception:
        driver.close()
        raise
    return driver


def server_info(driver, settings: Neo4jSettings) -> ServerInfo:
    """Ask the server for its Neo4j and GDS versions and its ``gds.*`` procedures/functions."""
    from neo4j.exceptions import ClientError

    with driver.session(database=settings.database) as session:
        component = session.run(
            "CALL dbms.components() YIELD name, versions, edition "
            "WHERE name = 'Neo4j Kernel' RETURN versions[0] AS version, edition"
        ).single()
        try:
            gds_version = session.run("RETURN gds.version() AS v").single()["v"]
        except ClientError as exc:
            if "gds.version" not in str(exc):
                raise
            gds_version = None
        procedures = frozenset(
            r["name"] for r in session.run(
                "SHOW PROCEDURES YIELD name WHERE name STARTS WITH 'gds.' RETURN name")
        )
        functions = frozenset(
            r["name"] for r in session.run(
                "SHOW FUNCTIONS YIELD name WHERE name STARTS WITH 'gds.' RETURN name")
        )
    return ServerInfo(component["version"], component["edition"], gds_version, procedures,
                      functions)


def check_server(info: ServerInfo, uri: str) -> None:
    """Raise ``EngineError`` unless the server has a fitting Neo4j and GDS.

    Args:
        info: what ``server_info`` found.
        uri: the server's URI, for the message.
    """
    major = _version_tuple(info.neo4j_version)[:1]
    if not major or major[0] not in SUPPORTED_NEO4J_MAJOR:
        raise EngineError(
            f"Neo4j at {uri} is version {info.neo4j_version}; the neo4j engine needs Neo4j 5 "
            "(5.26 LTS recommended, as `neo4j/neo4j.sh` installs) or a 2025.x calendar "
            f"release (got {info.neo4j_version})"
        )
    if info.gds_version is None:
        raise EngineError(
            f"Neo4j {info.neo4j_version} at {uri} has no Graph Data Science plug-in "
            "(gds.version() is unknown): install the GDS release made for this Neo4j into its "
            "plugins folder and restart it (GDS 2.13 for Neo4j 5.26; `neo4j/neo4j.sh` installs "
            "both)"
        )
    if _version_tuple(info.gds_version)[:2] < MIN_GDS_VERSION:
        raise EngineError(
            f"GDS {info.gds_version} on Neo4j {info.neo4j_version} at {uri} is too old: the "
            f"neo4j engine needs GDS >= {'.'.join(map(str, MIN_GDS_VERSION))} "
            f"(got {info.gds_version}); install GDS 2.13 for Neo4j 5.26"
        )
    missing = [p for p in REQUIRED_PROCEDURES if p not in info.procedures]
    missing += [f"{f}()" for f in REQUIRED_FUNCTIONS if f not in info.functions]
    if missing:
        raise EngineError(
            f"GDS {info.gds_version} on Neo4j {info.neo4j_version} at {uri} lacks procedures "
            f"the neo4j engine calls (got no {', '.join(missing)}): the GDS and Neo4j versions "
            "probably do not match; install the GDS release listed for this Neo4j version in "
            "the GDS compatibility matrix"
        )


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in str(version).split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
