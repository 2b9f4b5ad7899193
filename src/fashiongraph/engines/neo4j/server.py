"""The local Neo4j + GDS server of ``neo4j/neo4j.sh``, driven from Python.

The script lives in the repository (``neo4j/neo4j.sh`` beside ``neo4j/pom.xml``); an installed
package without the checkout finds it through ``FASHIONGRAPH_NEO4J_SCRIPT``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

from fashiongraph.errors import EngineError

log = logging.getLogger(__name__)

SCRIPT_ENV = "FASHIONGRAPH_NEO4J_SCRIPT"


def script_path() -> Path:
    """Path of ``neo4j.sh`` (``$FASHIONGRAPH_NEO4J_SCRIPT`` or the checkout's ``neo4j/``)."""
    env = os.environ.get(SCRIPT_ENV)
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[4] / "neo4j" / "neo4j.sh")
    for path in candidates:
        if path.is_file():
            return path
    raise EngineError(
        f"neo4j/neo4j.sh not found (tried {', '.join(map(str, candidates))}): run from a "
        f"fashiongraph checkout or set {SCRIPT_ENV} to the script's path"
    )


JVM_DIR_ENV = "FASHIONGRAPH_JVM_DIR"
"""Where installed JDKs are looked for (default ``/usr/lib/jvm``), as ``neo4j.sh`` does."""


def java_available() -> str | None:
    """Why the local server cannot run here (no Java 17 or 21), or ``None`` if it can.

    Looks where ``neo4j.sh`` looks: ``FASHIONGRAPH_NEO4J_JAVA``, ``$JAVA_HOME/bin/java``,
    ``java`` on the PATH, then JDK 17 and 21 folders under ``$FASHIONGRAPH_JVM_DIR``.
    """
    candidates = [os.environ.get("FASHIONGRAPH_NEO4J_JAVA"),
                  os.path.join(os.environ.get("JAVA_HOME", ""), "bin", "java"),
                  shutil.which("java")]
    jvm = Path(os.environ.get(JVM_DIR_ENV, "/usr/lib/jvm"))
    if jvm.is_dir():
        candidates += [str(d / "bin" / "java") for d in sorted(jvm.iterdir())
                       if "17" in d.name or "21" in d.name]
    for candidate in filter(None, candidates):
        if os.path.isfile(candidate) and _java_major(candidate) in (17, 21):
            return None
    return ("no Java 17 or 21 found (Neo4j 5.26 needs one): install a JDK 17, e.g. "
            "`apt-get install openjdk-17-jdk-headless`, or set FASHIONGRAPH_NEO4J_JAVA")


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)', out.stderr + out.stdout)
    return int(match.group(1)) if match else None


class LocalServer:
    """Start, stop and query the server that ``neo4j/neo4j.sh`` manages.

    Args:
        script: path of ``neo4j.sh`` (found by ``script_path`` when ``None``).
        env: extra environment for the script (e.g. ``FASHIONGRAPH_NEO4J_PORT``).
        timeout: seconds one script call may take (the first start downloads the jars).
    """

    def __init__(self, script: str | Path | None = None, *, env: dict | None = None,
                 timeout: float = 900.0):
        self.script = Path(script) if script is not None else script_path()
        self.env = dict(env or {})
        self.timeout = timeout

    def _call(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        log.debug("neo4j.sh %s", " ".join(args))
        try:
            done = subprocess.run(["bash", str(self.script), *args], capture_output=True,
                                  text=True, timeout=self.timeout,
                                  env=os.environ | self.env)
        except subprocess.TimeoutExpired:
            raise EngineError(
                f"`neo4j.sh {args[0]}` did not finish within {self.timeout:.0f}s; look at the "
                "logs under .neo4j/*/logs"
            ) from None
        if check and done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise EngineError(f"`neo4j.sh {' '.join(args[:4])}` failed (got exit code "
                              f"{done.returncode}):\n{tail}")
        for line in done.stderr.strip().splitlines():
            log.info("%s", line)
        return done

    def start(self) -> None:
        """Install (once), configure and start the server; wait until Bolt answers."""
        reason = java_available()
        if reason is not None:
            raise EngineError(f"cannot start the local Neo4j server: {reason}")
        self._call("start")

    def stop(self) -> None:
        """Stop the server cleanly (no-op if it is not running)."""
        self._call("stop")

    def is_running(self) -> bool:
        return self._call("status", check=False).returncode == 0

    def admin(self, args: list[str]) -> str:
        """Run ``neo4j-admin`` with ``args`` against the server's home; return its output."""
        done = self._call("admin", *args)
        return done.stdout
