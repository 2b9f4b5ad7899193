"""The evaluation report: a markdown page, a JSON twin and plots, one section per task."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np

from fashiongraph.evaluation.evaluate import EvaluationResult

log = logging.getLogger(__name__)


def format_table(result: EvaluationResult) -> str:
    """The comparison table as GitHub markdown."""
    table = result.table()
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, float):
                cells.append("n/a" if np.isnan(v) else f"{v:.1f}" if c.endswith(" s")
                             else f"{v:.4f}" if c != "from model" else f"{v:.0%}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def console_table(result: EvaluationResult) -> str:
    """A compact plain-text table for the terminal."""
    k = result.k
    head = f"{'method':36s} {'MAP@' + str(k):>9s} {'95% CI':>19s} {'recall':>7s} {'hist':>8s} " \
           f"{'no hist':>8s} {'fit s':>7s}"
    lines = [f"== {result.task}: test {result.split.test_start.date()} + {result.split.test_days}d, "
             f"{len(result.test_customers)} customers ({int(result.has_history.sum())} with "
             f"history), engine {result.engine}", head]
    for r in sorted(result.methods, key=lambda r: -r.metrics["all"]["map"]):
        a = r.metrics["all"]
        lines.append(
            f"{r.label:36s} {a['map']:9.5f} [{r.map_ci[0]:.4f}, {r.map_ci[1]:.4f}] "
            f"{a['recall']:7.4f} {_fmt(r.metrics['with_history']['map'])} "
            f"{_fmt(r.metrics['without_history']['map'])} {r.fit_seconds:7.1f}")
    return "\n".join(lines)


def _fmt(v: float) -> str:
    return f"{'n/a':>8s}" if np.isnan(v) else f"{v:8.5f}"


def verdicts(result: EvaluationResult) -> list[str]:
    """One sentence per graph method and baseline, from the paired bootstrap."""
    lines = []
    for c in result.comparisons:
        if c["method"].split("[")[0] in ("popularity", "repurchase"):
            continue
        lines.append(
            f"- **{c['method']}** vs {c['baseline']}: {c['verdict']} (MAP difference "
            f"{c['map_difference']:+.4f}, 95% CI [{c['ci'][0]:+.4f}, {c['ci'][1]:+.4f}])"
        )
    return lines


def plot_map(result: EvaluationResult, path: Path) -> Path:
    """Horizontal bars of MAP@k with bootstrap intervals, by customer group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = sorted(result.methods, key=lambda r: r.metrics["all"]["map"])
    labels = [r.label for r in rs]
    y = np.arange(len(rs))
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.5 * len(rs) + 2), sharey=True)
    vals = np.array([r.metrics["all"]["map"] for r in rs])
    err = np.array([[v - r.map_ci[0], r.map_ci[1] - v] for v, r in zip(vals, rs)]).T
    axes[0].barh(y, vals, xerr=err, color="#4a7ab5", capsize=3)
    axes[0].set_yticks(y, labels)
    axes[0].set_xlabel(f"MAP@{result.k} (95% bootstrap CI)")
    axes[0].set_title(f"{result.task}: all {len(result.test_customers)} test customers")
    for j, (group, colour) in enumerate((("with_history", "#3c9d5d"),
                                         ("without_history", "#c9733b"))):
        v = np.nan_to_num([r.metrics[group]["map"] for r in rs])
        axes[1].barh(y + (j - 0.5) * 0.38, v, height=0.38, color=colour,
                     label=f"{group.replace('_', ' ')} ({rs[0].metrics[group]['customers']})")
    axes[1].set_xlabel(f"MAP@{result.k}")
    axes[1].set_title("by customer group")
    axes[1].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(results: list[EvaluationResult], out_dir: str | Path, *,
                 title: str = "fashiongraph evaluation") -> Path:
    """Write ``report.md``, ``report.json`` and one plot per task into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = [f"# {title}", "",
          "Each method is fitted only on transactions before the test start and scored on the "
          "customers who bought something in the test window. MAP@12 follows the H&M "
          "competition's definition; intervals are 95% percentile bootstraps over customers; "
          "verdicts come from a paired bootstrap of per-customer AP differences. "
          "`[keep_purchased]` marks a graph method that may recommend articles the customer "
          "already bought (the original study excludes them). 'from model' is the share of list "
          "slots the method filled itself; the rest came from the popularity fallback.", ""]
    for res in results:
        plot = plot_map(res, out_dir / f"map_{res.task}.png")
        md += [f"## {res.task}", "",
               f"Train: {res.num_train_transactions:,} transactions before "
               f"{res.split.test_start.date()}. Test: {res.split.test_days} day(s) from "
               f"{res.split.test_start.date()}, {len(res.test_customers):,} customers "
               f"({int(res.has_history.sum()):,} with earlier purchases). Engine: {res.engine}.",
               "", format_table(res), "", "Against the baselines:", ""]
        md += verdicts(res) or ["- (no graph method evaluated)"]
        md += ["", f"![MAP@{res.k} {res.task}]({plot.name})", ""]
        for r in res.methods:
            src = r.extras.get("training_plot")
            if src and Path(src).exists():
                dst = out_dir / f"training_{res.task}_{r.label}.png".replace("[", "_").replace(
                    "]", "")
                shutil.copyfile(src, dst)
                md += [f"Training curves of {r.label}:", "", f"![training]({dst.name})", ""]
    (out_dir / "report.md").write_text("\n".join(md))
    (out_dir / "report.json").write_text(
        json.dumps({"title": title, "tasks": [r.to_json() for r in results]}, indent=2,
                   default=_json_default))
    log.info("report written to %s", out_dir / "report.md")
    return out_dir / "report.md"


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
