"""Where the Neo4j server is and how to log in, from arguments or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fashiongraph.errors import ConfigError

DEFAULT_PORT = 7697
"""Bolt port of the server that ``neo4j/neo4j.sh`` starts (away from Neo4j's usual 7687)."""

DEFAULT_PASSWORD = "fashiongraph"
"""Password of the local test server when ``NEO4J_PASSWORD`` is unset (never use it elsewhere)."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True, kw_only=True)
class Neo4jSettings:
    """Connection settings of the Neo4j engine.

    Args:
        uri: Bolt URI, e.g. ``bolt://127.0.0.1:7697`` or ``neo4j+s://xxxx.databases.neo4j.io``.
        user: user name.
        password: password.
        database: database that holds the knowledge graph (``neo4j`` on community servers).
    """

    uri: str
    user: str = "neo4j"
    password: str = DEFAULT_PASSWORD
    database: str = "neo4j"

    def __post_init__(self):
        scheme = self.uri.split("://", 1)[0] if "://" in self.uri else ""
        if scheme not in ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"):
            raise ConfigError(
                f"Neo4j uri must start with bolt:// or neo4j:// (got {self.uri!r})"
            )
        if not self.database:
            raise ConfigError(f"Neo4j database name must not be empty (got {self.database!r})")

    @classmethod
    def from_env(cls, *, uri: str | None = None, user: str | None = None,
                 password: str | None = None, database: str | None = None) -> Neo4jSettings:
        """Settings from the arguments, falling back on the environment, then on the defaults.

        ``FASHIONGRAPH_NEO4J_URI`` (else ``bolt://127.0.0.1:$FASHIONGRAPH_NEO4J_PORT``, port
        7697 by default), ``NEO4J_USER`` (``neo4j``), ``NEO4J_PASSWORD`` (``fashiongraph``) and
        ``FASHIONGRAPH_NEO4J_DATABASE`` (``neo4j``).
        """
        if uri is None:
            port = _env("FASHIONGRAPH_NEO4J_PORT", str(DEFAULT_PORT))
            if not port.isdigit():
                raise ConfigError(f"FASHIONGRAPH_NEO4J_PORT must be a port number (got {port!r})")
            uri = _env("FASHIONGRAPH_NEO4J_URI", f"bolt://127.0.0.1:{port}")
        return cls(
            uri=uri,
            user=user if user is not None else _env("NEO4J_USER", "neo4j"),
            password=password if password is not None else _env("NEO4J_PASSWORD",
                                                                 DEFAULT_PASSWORD),
            database=database if database is not None else _env("FASHIONGRAPH_NEO4J_DATABASE",
                                                                 "neo4j"),
        )
