"""One clear message per way the Neo4j engine cannot run."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
from pathlib import Path

import pytest

from fashiongraph.engines.neo4j.connection import check_server, connect, server_info
from fashiongraph.engines.neo4j.server import java_available, script_path
from fashiongraph.engines.neo4j.settings import Neo4jSettings
from fashiongraph.errors import ConfigError, EngineError


def closed_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_says_how_to_start_one():
    port = closed_loopback_port()
    settings = Neo4jSettings(uri=f"bolt://127.0.0.1:{port}")
    with pytest.raises(EngineError) as err:
        connect(settings, timeout=3)
    message = str(err.value)
    assert message.startswith(f"Neo4j is not reachable at bolt://127.0.0.1:{port} (got ")
    assert "start the bundled server with `make neo4j-start`" in message
    assert "FASHIONGRAPH_NEO4J_URI" in message


@pytest.mark.neo4j
def test_wrong_password_is_named(neo4j_settings):
    wrong = dataclasses.replace(neo4j_settings, password="not-the-password")
    with pytest.raises(EngineError, match=(
            r"refused user 'neo4j': wrong password \(got an authentication failure\); "
            r"set NEO4J_PASSWORD")):
        connect(wrong)


@pytest.mark.neo4j
def test_unknown_database_is_named(neo4j_settings):
    other = dataclasses.replace(neo4j_settings, database="nosuchdb")
    with pytest.raises(EngineError, match=r"has no database 'nosuchdb' \(got "
                                          r"Neo.ClientError.Database.DatabaseNotFound\)"):
        connect(other)


@pytest.fixture(scope="module")
def real_info(neo4j_settings):
    driver = connect(neo4j_settings)
    try:
        return server_info(driver, neo4j_settings)
    finally:
        driver.close()


@pytest.mark.neo4j
def test_bundled_server_has_what_the_engine_needs(real_info):
    check_server(real_info, "bolt://here")
    assert real_info.gds_version.startswith("2.13")
    assert real_info.neo4j_version.startswith("5.26")


@pytest.mark.neo4j
def test_missing_gds_says_what_to_install(real_info):
    without = dataclasses.replace(real_info, gds_version=None, procedures=frozenset(),
                                  functions=frozenset())
    with pytest.raises(EngineError, match=(
            r"Neo4j 5\.26\.\d+ at bolt://here has no Graph Data Science plug-in "
            r"\(gds.version\(\) is unknown\): install the GDS release made for this Neo4j")):
        check_server(without, "bolt://here")


@pytest.mark.neo4j
def test_old_gds_is_refused(real_info):
    old = dataclasses.replace(real_info, gds_version="2.5.8")
    with pytest.raises(EngineError, match=r"GDS 2\.5\.8 .* is too old: the neo4j engine needs "
                                          r"GDS >= 2\.6 \(got 2\.5\.8\)"):
        check_server(old, "bolt://here")


@pytest.mark.neo4j
def test_mismatched_gds_lacking_procedures_is_named(real_info):
    lacking = dataclasses.replace(
        real_info, procedures=real_info.procedures - {"gds.knn.filtered.stream"},
        functions=real_info.functions - {"gds.util.nodeProperty"})
    with pytest.raises(EngineError, match=(
            r"lacks procedures the neo4j engine calls \(got no gds\.knn\.filtered\.stream, "
            r"gds\.util\.nodeProperty\(\)\): the GDS and Neo4j versions probably do not match")):
        check_server(lacking, "bolt://here")


def test_old_neo4j_is_refused():
    from fashiongraph.engines.neo4j.connection import ServerInfo

    with pytest.raises(EngineError, match=r"Neo4j at bolt://here is version 4\.4\.30; the neo4j "
                                          r"engine needs Neo4j 5"):
        check_server(ServerInfo("4.4.30", "community", "2.6.0", frozenset()), "bolt://here")


def test_settings_refuse_a_uri_without_bolt_scheme():
    with pytest.raises(ConfigError, match=r"Neo4j uri must start with bolt:// or neo4j:// "
                                          r"\(got 'http://127.0.0.1:7474'\)"):
        Neo4jSettings(uri="http://127.0.0.1:7474")


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("FASHIONGRAPH_NEO4J_URI", raising=False)
    monkeypatch.setenv("FASHIONGRAPH_NEO4J_PORT", "7999")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret-pass")
    settings = Neo4jSettings.from_env()
    assert settings.uri == "bolt://127.0.0.1:7999"
    assert settings.password == "s3cret-pass"
    monkeypatch.setenv("FASHIONGRAPH_NEO4J_PORT", "seven")
    with pytest.raises(ConfigError, match=r"FASHIONGRAPH_NEO4J_PORT must be a port number "
                                          r"\(got 'seven'\)"):
        Neo4jSettings.from_env()


@pytest.fixture()
def path_without_java(tmp_path):
    """A PATH holding every program of /usr/bin except java, and no JDK folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in Path("/usr/bin").iterdir():
        if program.name != "java":
            (bin_dir / program.name).symlink_to(program)
    return {"PATH": str(bin_dir), "FASHIONGRAPH_JVM_DIR": str(tmp_path / "no-jvm"),
            "HOME": os.environ.get("HOME", "/root")}


def test_without_java_the_python_side_says_why(path_without_java, monkeypatch):
    for name in ("JAVA_HOME", "FASHIONGRAPH_NEO4J_JAVA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in path_without_java.items():
        monkeypatch.setenv(name, value)
    assert java_available() == (
        "no Java 17 or 21 found (Neo4j 5.26 needs one): install a JDK 17, e.g. "
        "`apt-get install openjdk-17-jdk-headless`, or set FASHIONGRAPH_NEO4J_JAVA")


@pytest.mark.parametrize("ci, code", [("", 0), ("true", 1)])
def test_without_java_the_script_skips_but_fails_under_ci(path_without_java, ci, code):
    done = subprocess.run(["bash", str(script_path()), "start"], capture_output=True, text=True,
                          env=path_without_java | {"CI": ci}, timeout=60)
    assert done.returncode == code
    assert "no Java 17 or 21 found (Neo4j 5.26.22 needs one)" in done.stderr
    if code == 0:
        assert "the Neo4j tests will be skipped" in done.stderr
