"""What every benchmark number carries: wall and CPU time, peak memory, load, the machine.

Peak memory is the process's resident-set high-water mark (``VmHWM``), reset before each step
through ``/proc/self/clear_refs`` so that each step reports its own peak, not the process's.
The load average is read before and after each step: the machine may be shared, and a number
taken under load says so.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux); False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """Peak resident set size of this process since start or the last reset."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Step:
    """One measured step.

    Attributes:
        name: step name (``ingest``, ``fastrp``, ...).
        wall_s: wall-clock seconds.
        cpu_s: CPU seconds of the process, all threads (``cpu_s / wall_s`` near the number of
            cores means the step ran in parallel; far below it on a loaded machine means the
            step waited for a core).
        peak_rss_bytes: peak resident memory of the process during the step.
        load_before, load_after: ``/proc/loadavg`` before and after.
        extra: step-specific numbers (rows, steps per second, latency percentiles).
    """

    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_bytes: int = 0
    load_before: str = ""
    load_after: str = ""
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


@contextmanager
def measured(name: str):
    """Measure the body as step ``name``; yields the ``Step`` (fill ``extra`` inside)."""
    step = Step(name, load_before=load_average())
    reset_peak_rss()
    c0, t0 = cpu_seconds(), time.perf_counter()
    yield step
    step.wall_s = time.perf_counter() - t0
    step.cpu_s = cpu_seconds() - c0
    step.peak_rss_bytes = peak_rss_bytes()
    step.load_after = load_average()


def run_measured(name: str, argv: list[str], *, log_path: Path) -> Step:
    """Run a command as a child process and measure it as step ``name``.

    The child's peak RSS and CPU time come from ``wait4``, so they are the child's alone.
    Output goes to ``log_path``; a failing command raises ``RuntimeError`` naming the log.
    """
    step = Step(name, load_before=load_average())
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                env=child_env())
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    step.wall_s = time.perf_counter() - t0
    step.cpu_s = usage.ru_utime + usage.ru_stime
    step.peak_rss_bytes = usage.ru_maxrss * 1024
    step.load_after = load_average()
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark step {name!r} failed (exit {proc.returncode}): "
                           f"see {log_path}")
    return step


def child_env() -> dict:
    """The environment for child processes: this checkout's ``src`` first on the path."""
    env = dict(os.environ)
    src = str(REPO / "src")
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != src]
    env["PYTHONPATH"] = os.pathsep.join([src, *parts])
    return env


def machine() -> dict:
    """The machine, software and checkout a result was measured on."""
    import numba
    import numpy

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True).stdout.strip()
        commit += "+local changes" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "commit": commit,
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f}"
