"""The pipeline at several fractions of H&M scale: run (resumably), collect, report.

Each scale ``s`` lives in ``benchmarks/out/scale-<s>/`` (data, dataset, logs, results). Running
``python -m benchmarks scale --scales 0.01,0.1`` runs the stages of those scales that have no
result yet, then rewrites the report from every scale measured so far
(``benchmarks/results/scale.json``, ``scale.md``, ``scale.png``).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from benchmarks import stages
from benchmarks.measure import REPO, load_average, machine, run_measured

log = logging.getLogger(__name__)

OUT = REPO / "benchmarks" / "out"
RESULTS = REPO / "benchmarks" / "results"
STAGES = ("synth", "ingest", "pipeline")


def scale_name(scale: float) -> str:
    return f"{scale:g}"


def scale_dir(scale: float) -> Path:
    return OUT / f"scale-{scale_name(scale)}"


def run_scale(scale: float, *, stages_to_run=STAGES, force: bool = False,
              keep_data: bool = True) -> dict:
    """Run the stages of ``scale`` that have no result yet (all of them with ``force``).

    Args:
        stages_to_run: a prefix of ``STAGES`` (the kernel benchmark needs only the data).
        keep_data: keep the generated tables (the dataset directory is kept either way).
    """
    root = scale_dir(scale)
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    for stage in stages_to_run:
        result_path = root / "results" / f"{stage}.json"
        if result_path.exists() and not force:
            log.info("scale %s: %s already measured (%s)", scale_name(scale), stage, result_path)
            continue
        log.info("scale %s: %s (load %s)", scale_name(scale), stage, load_average())
        log_path = root / "logs" / f"{stage}.log"
        if stage == "synth":
            argv = stages.synth_command(scale, root / "data")
        elif stage == "ingest":
            argv = stages.ingest_command(root / "data", root / "dataset")
        else:
            argv = stages.pipeline_command(root)
        step = run_measured(stage, argv, log_path=log_path)
        if stage == "pipeline":
            # The worker wrote its own steps; keep them, plus the process as a whole.
            result = json.loads(result_path.read_text())
            result["process"] = step.to_json()
        else:
            result = {"steps": [step.to_json()], "command": " ".join(argv[1:]),
                      "machine": machine()}
        result_path.write_text(json.dumps(result, indent=2))
        log.info("scale %s: %s done in %.1fs, peak %.2f GiB", scale_name(scale), stage,
                 step.wall_s, step.peak_rss_bytes / 2**30)
    if not keep_data:
        shutil.rmtree(root / "data", ignore_errors=True)
    return collect(scale)


def collect(scale: float) -> dict:
    """Every measured step of ``scale``, in pipeline order."""
    root = scale_dir(scale)
    steps, machines, split, commands = [], [], None, {}
    for stage in STAGES:
        path = root / "results" / f"{stage}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        steps += result["steps"]
        machines.append(result["machine"])
        split = result.get("split", split)
        if "command" in result:
            cli = result["command"].removeprefix("-m fashiongraph.cli ")
            commands[stage] = f"fashiongraph {cli}"
    return {"scale": scale, "sizes": stages.scale_sizes(scale), "split": split,
            "steps": steps, "machine": machines[-1] if machines else None,
            "commands": commands}


def merge_results(new: list[dict]) -> list[dict]:
    """The saved results with each newly measured scale replacing its old entry."""
    path = RESULTS / "scale.json"
    saved = json.loads(path.read_text())["scales"] if path.exists() else []
    by_scale = {r["scale"]: r for r in saved}
    for r in new:
        by_scale[r["scale"]] = r
    return [by_scale[s] for s in sorted(by_scale)]
