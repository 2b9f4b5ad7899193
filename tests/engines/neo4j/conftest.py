"""Fixtures for the Neo4j engine's tests: the server `make test` started, and the sample in it.

Tests marked ``neo4j`` need a Neo4j with GDS (``make test`` starts the bundled one; so does
``make neo4j-start``). Without Java they skip and say so; so they do when no server answers,
except under ``CI=true``, where both are failures: CI must run them.

The module order matters for speed only: ``test_loader`` replaces the database with tiny graphs
first, then the ``test_sample_*`` modules load the real sample once (``sample_engine``).
"""

from __future__ import annotations

import os

import pytest

from fashiongraph.errors import EngineError

SAMPLE_CUTOFF = "2020-09-16"


def _skip_or_fail(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the Neo4j tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def uses_bundled_server() -> bool:
    """True unless FASHIONGRAPH_NEO4J_URI points the tests at another server."""
    return not os.environ.get("FASHIONGRAPH_NEO4J_URI")


@pytest.fixture(scope="session")
def neo4j_settings():
    """Settings of a reachable Neo4j with GDS (skips, or fails under CI, when there is none)."""
    from fashiongraph.engines.neo4j.connection import check_server, connect, server_info
    from fashiongraph.engines.neo4j.server import java_available
    from fashiongraph.engines.neo4j.settings import Neo4jSettings

    if uses_bundled_server():
        reason = java_available()
        if reason is not None:
            _skip_or_fail(f"the bundled Neo4j cannot run: {reason}")
    settings = Neo4jSettings.from_env()
    try:
        driver = connect(settings)
    except EngineError as exc:
        _skip_or_fail(str(exc))
    try:
        check_server(server_info(driver, settings), settings.uri)
    finally:
        driver.close()
    return settings


@pytest.fixture(scope="session")
def sample_context(sample_dataset):
    """The sample's fit context at the test cutoff, on the embedded engine."""
    from fashiongraph.recommenders.base import FitContext

    return FitContext(sample_dataset, SAMPLE_CUTOFF)


@pytest.fixture(scope="session")
def sample_engine(neo4j_settings, sample_context):
    """The Neo4j engine over the sample graph, bulk-loaded with neo4j-admin (the bundled server)
    or loaded online (another server)."""
    from fashiongraph.engines.neo4j.engine import Neo4jEngine

    load = "bulk" if uses_bundled_server() else "online"
    engine = Neo4jEngine(sample_context.graph, load=load)
    yield engine
    engine.close()
