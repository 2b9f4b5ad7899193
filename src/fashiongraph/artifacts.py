"""One directory per pipeline run, with a manifest, so results can be traced and served.

Layout::

    <run>/manifest.json          inputs, parameters, versions, cutoff, methods, timings
    <run>/dataset/               canonical tables (Dataset.save)
    <run>/graph/                 knowledge graph before the cutoff (KnowledgeGraph.save)
    <run>/popular.npy            int64 article_idx ranked by recent popularity (cold-start list)
    <run>/recommendations/<label>.parquet
                                 long format: customer_idx, rank, article_idx, score, from_model
    <run>/models/<method>/       trained models and embeddings (method-specific, own manifest)
    <run>/report/                report.md, report.json, plots

The app and the API read these; they never retrain.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from fashiongraph.errors import FashionGraphError


class RunDirectory:
    """Paths and readers/writers of a run directory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # ------------------------------------------------------------------ paths
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def dataset_dir(self) -> Path:
        return self.root / "dataset"

    @property
    def graph_dir(self) -> Path:
        return self.root / "graph"

    @property
    def recommendations_dir(self) -> Path:
        return self.root / "recommendations"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    def model_dir(self, method: str) -> Path:
        return self.root / "models" / method

    # ------------------------------------------------------------------ manifest
    def write_manifest(self, content: dict) -> Path:
        import fashiongraph

        self.root.mkdir(parents=True, exist_ok=True)
        full = {
            "fashiongraph_version": fashiongraph.__version__,
            "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": f"{platform.machine()} {platform.system()}",
        } | content
        self.manifest_path.write_text(json.dumps(full, indent=2, default=str))
        return self.manifest_path

    def read_manifest(self) -> dict:
        if not self.manifest_path.exists():
            raise FashionGraphError(
                f"{self.root}: no manifest.json; is this a fashiongraph run directory? "
                "Create one with `make demo` or `fashiongraph evaluate ... --run-dir DIR`"
            )
        return json.loads(self.manifest_path.read_text())

    # ------------------------------------------------------------------ recommendations
    def save_recommendations(self, recs) -> Path:
        """Write a ``Recommendations`` object in long format."""
        self.recommendations_dir.mkdir(parents=True, exist_ok=True)
        n, k = recs.article_idx.shape
        frame = pd.DataFrame({
            "customer_idx": np.repeat(recs.customer_idx, k).astype(np.int64),
            "rank": np.tile(np.arange(1, k + 1, dtype=np.int16), n),
            "article_idx": recs.article_idx.reshape(-1),
            "score": recs.scores.reshape(-1),
            "from_model": (np.arange(k)[None, :] < recs.num_from_model[:, None]).reshape(-1),
        })
        frame = frame[frame["article_idx"] >= 0]
        path = self.recommendations_dir / f"{recs.method}.parquet"
        frame.to_parquet(path, index=False)
        return path

    def recommendation_labels(self) -> list[str]:
        if not self.recommendations_dir.exists():
            return []
        return sorted(p.stem for p in self.recommendations_dir.glob("*.parquet"))

    def load_recommendations(self, label: str) -> pd.DataFrame:
        path = self.recommendations_dir / f"{label}.parquet"
        if not path.exists():
            raise FashionGraphError(
                f"{self.root}: no saved recommendations for method {label!r} "
                f"(have {self.recommendation_labels()})"
            )
        return pd.read_parquet(path)

    def save_popular(self, ranked_article_idx: np.ndarray) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "popular.npy"
        np.save(path, np.asarray(ranked_article_idx, dtype=np.int64))
        return path

    def load_popular(self) -> np.ndarray:
        return np.load(self.root / "popular.npy")
