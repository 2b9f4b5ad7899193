"""A real run directory for the serving tests: the pipeline on the bundled hm_sample.

The session runs ``fashiongraph.pipeline.run_task`` once on the bundled real sample (1,364
customers, cutoff 2020-09-16) with the embedded engine's methods, and writes its report, exactly
as ``make demo`` does for ``runs/demo``. Set ``FASHIONGRAPH_TEST_RUN`` to an existing run
directory to test against that one instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from fashiongraph.artifacts import RunDirectory
from fashiongraph.data.dataset import Dataset

TEST_METHODS = ["popularity", "repurchase", "random_walk", "fastrp_knn"]
"""Methods of the test run: the baselines and the embedded engine's graph methods."""

ARTIFACTS = Path(__file__).resolve().parents[2] / "runs" / "test-artifacts"
"""Where tests copy screenshots for people to look at (git-ignored, like all of runs/)."""


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    existing = os.environ.get("FASHIONGRAPH_TEST_RUN")
    if existing:
        return Path(existing)
    from fashiongraph.evaluation.report import write_report
    from fashiongraph.pipeline import bundled_tasks, run_task

    task = next(t for t in bundled_tasks() if t.name == "hm_sample")
    out = tmp_path_factory.mktemp("serving") / "run"
    result = run_task(task, out, methods=TEST_METHODS)
    write_report([result], RunDirectory(out).report_dir, title="serving test run")
    return out


@pytest.fixture(scope="session")
def service(run_dir):
    from fashiongraph.serving.service import RunService

    return RunService(run_dir)


@pytest.fixture(scope="session")
def client(service):
    from fastapi.testclient import TestClient

    from fashiongraph.serving.api import create_app

    with TestClient(create_app(service)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def dataset(run_dir) -> Dataset:
    return Dataset.load(RunDirectory(run_dir).dataset_dir)


@pytest.fixture(scope="session")
def cutoff(run_dir) -> pd.Timestamp:
    return pd.Timestamp(RunDirectory(run_dir).read_manifest()["cutoff"])


@pytest.fixture(scope="session")
def history(dataset, cutoff) -> pd.DataFrame:
    """Transactions before the cutoff, with the string ids joined back."""
    tx = dataset.transactions[dataset.transactions["t_dat"] < cutoff]
    return tx.assign(
        customer_id=dataset.customers["customer_id"].to_numpy()[tx["customer_idx"]],
        article_id=dataset.articles["article_id"].to_numpy()[tx["article_idx"]],
    )


@pytest.fixture(scope="session")
def customer_with_history(history) -> str:
    """The customer who bought most before the cutoff."""
    units = history.groupby("customer_id")["quantity"].sum()
    return str(units.sort_values(ascending=False, kind="stable").index[0])


@pytest.fixture(scope="session")
def customer_without_history(dataset, history) -> str:
    """A customer of the run with no purchase before the cutoff (first purchase after it)."""
    ids = set(dataset.customers["customer_id"]) - set(history["customer_id"])
    assert ids, "the bundled sample has customers whose first purchase is in the test week"
    return sorted(ids)[0]
