"""The scale report: a markdown table per step and scale, growth exponents, targets, a plot.

The growth exponent ``b`` of a step is the least-squares slope of ``log(wall seconds)`` against
``log(scale)``: time grows like ``scale ** b`` (1 is linear). With two scales it is the slope
between them; small scales carry fixed costs (imports, compiled-kernel loading), which lower it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmarks.measure import gib

TARGETS = {
    "end_to_end_s": 600.0,
    "peak_rss_bytes": 12 * 10**9,
    "fastrp_s": 15.0,
    "knn_s": 30.0,
    "latency_p50_ms": 5.0,
}
MIN_EXPONENT = {"knn": 2.0}
"""Least growth exponent used to extrapolate a step (1 for the others): KNN compares every
test customer with every candidate article, and both grow with the scale."""
NOT_COUNTED = {"synth", "kernel warm-up", "load dataset", "random walk, one customer"}
"""Steps outside the end-to-end sum: data generation, compiling or loading the numba kernels
(once per machine and code version), reading back between processes, and the latency probe
(it repeats work already counted)."""


def exponents(scales: list[dict], *, largest: int | None = None) -> dict[str, float]:
    """Growth exponent of each step measured at two or more scales.

    Args:
        largest: fit only the ``largest`` biggest scales (``None``: all). The two largest
            extrapolate best: at small scales fixed costs hide the growth.
    """
    chosen = sorted(scales, key=lambda r: r["scale"])
    chosen = chosen if largest is None else chosen[-largest:]
    times: dict[str, list[tuple[float, float]]] = {}
    for r in chosen:
        for s in r["steps"]:
            if s["wall_s"] > 0:
                times.setdefault(s["name"], []).append((r["scale"], s["wall_s"]))
    out = {}
    for name, points in times.items():
        if len(points) >= 2:
            x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
            out[name] = float(np.polyfit(x, y, 1)[0])
    return out


def end_to_end(result: dict) -> tuple[float, int]:
    """Wall seconds summed over the counted steps, and the largest peak RSS among them."""
    counted = [s for s in result["steps"]
               if s["name"] not in NOT_COUNTED and s["extra"].get("counted", True)]
    return (sum(s["wall_s"] for s in counted),
            max((s["peak_rss_bytes"] for s in counted), default=0))


def _step(result: dict, name: str) -> dict | None:
    return next((s for s in result["steps"] if s["name"] == name), None)


def _status(value: float | None, limit: float, *, at_full: bool) -> str:
    if value is None:
        return "not measured"
    met = value <= limit
    if at_full:
        return "**met**" if met else "**not met**"
    return "on track (extrapolated)" if met else "at risk (extrapolated)"


def targets(scales: list[dict], kernels: list[dict]) -> list[list]:
    """Rows of (target, value, status): measured at 100%, else extrapolated from two scales.

    Time is extrapolated from the largest scale by the exponent of the two largest scales, but
    never by less than 1 (``MIN_EXPONENT`` for steps whose work grows faster): every step
    does at least linear work, and a smaller exponent between small scales only means fixed
    costs (imports, thread start-up) still weigh there. Peak memory is extrapolated by a straight line through the two largest
    scales. With one scale below 100% nothing is extrapolated.
    """
    if not scales:
        return []
    ordered = sorted(scales, key=lambda r: r["scale"])
    top = ordered[-1]
    at_full = top["scale"] >= 1.0
    can_extrapolate = at_full or len(ordered) >= 2
    slopes = exponents(ordered, largest=2)
    grow = 1.0 / top["scale"]

    def full(name: str) -> float | None:
        s = _step(top, name)
        if s is None or name not in slopes and not at_full:
            return None
        least = MIN_EXPONENT.get(name, 1.0)
        return s["wall_s"] * (1.0 if at_full else grow ** max(least, slopes[name]))

    def counted(result: dict) -> list[dict]:
        return [s for s in result["steps"]
                if s["name"] not in NOT_COUNTED and s["extra"].get("counted", True)]

    if at_full:
        where = "measured at 100%"
        e2e, peak = end_to_end(top)
    elif can_extrapolate:
        where = (f"extrapolated from {ordered[-2]['scale']:g} and {top['scale']:g}, "
                 "exponent at least 1, KNN 2")
        e2e = sum(full(s["name"]) or 0.0 for s in counted(top))
        (s1, p1), (s2, p2) = ((r["scale"], end_to_end(r)[1]) for r in ordered[-2:])
        peak = p2 + (p2 - p1) / (s2 - s1) * (1.0 - s2)
    else:
        where, e2e, peak = None, None, None

    def status(value, limit):
        if value is None:
            return "not measured at 100%"
        if at_full:
            return "**met**" if value <= limit else "**not met**"
        return "on track" if value <= limit else "at risk"

    def shown(value, unit, fmt="{:.1f}", how=None):
        return "-" if value is None else f"{fmt.format(value)} {unit} ({how or where})"

    latency = _step(top, "random walk, one customer")
    p50 = latency["extra"]["p50_ms"] if latency else None
    rows = [
        ["end to end < 10 min on 2 cores", shown(e2e, "s", "{:.0f}"),
         status(e2e, TARGETS["end_to_end_s"])],
        ["peak memory < 12 GB",
         shown(None if peak is None else peak / 1e9, "GB",
               how=None if at_full else "a line through the two largest scales"),
         status(peak, TARGETS["peak_rss_bytes"])],
        ["FastRP 128-d on the full graph <= 15 s", shown(full("fastrp"), "s"),
         status(full("fastrp"), TARGETS["fastrp_s"])],
        ["top-12 KNN for a week's test customers <= 30 s", shown(full("knn"), "s"),
         status(full("knn"), TARGETS["knn_s"])],
        ["one customer's random-walk recommendation <= 5 ms p50",
         "-" if p50 is None else f"{p50:.2f} ms p50 at scale {top['scale']:g}",
         "-" if p50 is None else ("**met**" if p50 <= TARGETS["latency_p50_ms"] else "**not met**")
         + ("" if at_full else f" at {top['scale']:g}")],
    ]
    for k in kernels:
        w = k["walk"]["fast"]
        k = k | {"source": k.get("source", f"synth data at scale {k['scale']:g}")}
        rows.append(["random walks >= 30M steps/s on 2 cores",
                     f"{w['steps_per_s'] / 1e6:.1f}M steps/s wall, "
                     f"{w['steps_per_cpu_s'] / 1e6:.1f}M per CPU-second; {k['source']}, "
                     f"{k['graph']['entries']:,} CSR entries, load {w['load_after']}",
                     "**met**" if w["steps_per_s"] >= 30e6 else "**not met**"])
        if k["scale"] >= 1.0:
            for name, target in (("fastrp", "FastRP 128-d on the full graph <= 15 s"),
                                 ("knn", "top-12 KNN for a week's test customers <= 30 s")):
                t = k[name]["fast"]
                limit = TARGETS[f"{name}_s"]
                rows.append([target, f"{t['wall_s']:.1f} s wall, {t['cpu_s']:.1f} CPU-s; "
                             f"{k['source']}, load {t['load_after']}",
                             "**met**" if t["wall_s"] <= limit else "**not met**"])
    return rows


def write_scale_report(scales: list[dict], results_dir: Path, *,
                       kernels: list[dict] = ()) -> Path:
    """Write ``scale.json``, ``scale.md`` and ``scale.png`` into ``results_dir``."""
    results_dir.mkdir(parents=True, exist_ok=True)
    slopes = exponents(scales)
    recent = exponents(scales, largest=2)
    (results_dir / "scale.json").write_text(json.dumps({"scales": scales}, indent=2))
    plot = _plot(scales, results_dir / "scale.png")

    lines = ["# fashiongraph at 1%, 10% and 100% of H&M scale", "",
             "Written by `python -m benchmarks scale` (see `benchmarks/README.md`); every number "
             "below was measured, none is hand-edited. Scale `s` means `s` times H&M's "
             "1,371,980 customers, 105,542 articles and 31,788,324 transactions, generated by "
             "`fashiongraph synth` (seed 0). The test window is the data's last 7 days.", ""]
    lines += ["## Machines and commands", ""]
    for r in scales:
        m = r["machine"] or {}
        lines.append(f"- scale {r['scale']:g}: {m.get('date_utc', '?')}, {m.get('cpu', '?')}, "
                     f"{m.get('cores', '?')} cores, {m.get('memory_gib', '?')} GiB, "
                     f"numba {m.get('numba', '?')} ({m.get('numba_threads', '?')} threads), "
                     f"commit {m.get('commit', '?')}")
    commands = list(dict.fromkeys(r.get("run_command", "?") for r in scales))
    lines += ["", "Run from the repository root with the project's Python "
              "(`PYTHONPATH=src`, or the installed package):", "", "```"] + commands + ["```", ""]
    lines += ["Per scale, the stages were:", ""]
    for r in scales:
        for stage, cmd in r.get("commands", {}).items():
            lines.append(f"- {r['scale']:g} {stage}: `{cmd}`")
    lines.append(f"- every scale, pipeline: `python -m benchmarks.stages pipeline "
                 f"benchmarks/out/scale-<s>`")
    lines.append("")

    lines += ["## Targets", "",
              "Kernel rows come from `python -m benchmarks kernels` (`kernels*.md` beside this "
              "file). Profiles of the targets not met, and what would fix them: "
              "`benchmarks/NOTES.md`.", "",
              "| target | value | status |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in targets(scales, kernels)]
    lines.append("")

    lines += ["## Wall time by step and scale", "",
              "Seconds; `b` is the growth exponent (time ~ scale^b) fitted on all scales, "
              "`b top` on the two largest. The machine may have been shared: each step's "
              "load average is in the detail table.", ""]
    names = list(dict.fromkeys(s["name"] for r in scales for s in r["steps"]))
    lines.append("| step | " + " | ".join(f"{r['scale']:g}" for r in scales) + " | b | b top |")
    lines.append("|---|" + "---:|" * (len(scales) + 2))
    for name in names:
        cells = []
        for r in scales:
            s = _step(r, name)
            cells.append("-" if s is None else f"{s['wall_s']:.2f}")
        b, b_top = slopes.get(name), recent.get(name)
        lines.append(f"| {name} | " + " | ".join(cells)
                     + f" | {'-' if b is None else f'{b:.2f}'}"
                     + f" | {'-' if b_top is None else f'{b_top:.2f}'} |")
    e2e = [end_to_end(r) for r in scales]
    lines.append("| **end to end** (ingest to evaluation) | "
                 + " | ".join(f"**{t:.1f}**" for t, _ in e2e) + " | | |")
    lines.append("| **peak RSS of any counted step, GiB** | "
                 + " | ".join(f"**{gib(p)}**" for _, p in e2e) + " | | |")
    lines += ["", f"![time vs scale]({plot.name})", ""]

    lines += ["## Detail", "",
              "`cpu s` counts all threads of the step's process (2 means both cores busy for "
              "a second); `peak GiB` is the process's resident-set high-water mark during the "
              "step.", "",
              "| scale | step | wall s | cpu s | peak GiB | load before | load after | notes |",
              "|---:|---|---:|---:|---:|---|---|---|"]
    for r in scales:
        for s in r["steps"]:
            notes = ", ".join(f"{k} {_fmt(v)}" for k, v in s["extra"].items()
                              if k not in ("metrics", "counted"))
            lines.append(f"| {r['scale']:g} | {s['name']} | {s['wall_s']:.2f} | "
                         f"{s['cpu_s']:.2f} | {gib(s['peak_rss_bytes'])} | {s['load_before']} | "
                         f"{s['load_after']} | {notes} |")
    lines.append("")

    lines += ["## Recommendation quality (MAP@12 on the test week)", "",
              "| scale | " + " | ".join(_methods(scales)) + " |",
              "|---:|" + "---:|" * len(_methods(scales))]
    for r in scales:
        ev = _step(r, "evaluation")
        if ev is None:
            continue
        m = ev["extra"]["metrics"]
        lines.append(f"| {r['scale']:g} | "
                     + " | ".join(f"{m[k]['map']:.4f}" if k in m else "-" for k in _methods(scales))
                     + " |")
    lines.append("")
    path = results_dir / "scale.md"
    path.write_text("\n".join(lines))
    return path


def _methods(scales: list[dict]) -> list[str]:
    names: list[str] = []
    for r in scales:
        ev = _step(r, "evaluation")
        if ev:
            names += [k for k in ev["extra"]["metrics"] if k not in names]
    return names


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _plot(scales: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5.5))
    names = list(dict.fromkeys(s["name"] for r in scales for s in r["steps"]))
    colours = plt.get_cmap("tab20").colors
    for i, name in enumerate(names):
        points = [(r["scale"], _step(r, name)["wall_s"]) for r in scales if _step(r, name)]
        if points:
            ax.plot(*zip(*points), marker="o", color=colours[i % len(colours)], label=name,
                    linestyle="-" if i % 2 == 0 else "--")
    e2e = [(r["scale"], end_to_end(r)[0]) for r in scales]
    ax.plot(*zip(*e2e), marker="s", color="black", linewidth=2, label="end to end")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("fraction of H&M scale")
    ax.set_ylabel("wall seconds")
    ax.set_title("fashiongraph pipeline: time vs scale (2 cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
