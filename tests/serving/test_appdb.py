"""The application database and the in-memory recommendation index, on the real test run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

from fashiongraph.artifacts import RunDirectory
from fashiongraph.errors import DataError
from fashiongraph.serving.appdb import app_database_path, ensure_app_database
from fashiongraph.serving.index import RecommendationIndex


@pytest.fixture
def run_copy(tmp_path, run_dir):
    """A private copy of the test run (without its database) that a test may change."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("serving", "graph", "models"))
    return RunDirectory(copy)


def test_tables_hold_the_run(service, dataset, history, run_dir):
    con = duckdb.connect(str(service.db_path), read_only=True)
    count = lambda table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: E731
    assert count("customers") == dataset.num_customers
    assert count("articles") == dataset.num_articles
    assert count("transactions") == len(dataset.transactions)
    assert con.execute("SELECT count(*) FROM transactions WHERE NOT after_cutoff").fetchone()[0] \
        == len(history)
    saved = sum(len(RunDirectory(run_dir).load_recommendations(m))
                for m in RunDirectory(run_dir).recommendation_labels())
    assert count("recommendations") == saved
    assert count("popular") == len(RunDirectory(run_dir).load_popular())

    units = history.groupby("customer_idx")["quantity"].sum()
    db_units = con.execute("SELECT customer_idx, purchase_count FROM customers "
                           "WHERE purchase_count > 0").df().set_index("customer_idx")
    assert db_units["purchase_count"].sort_index().to_dict() == units.sort_index().to_dict()


def test_price_bands_are_tertiles_of_mean_price(service):
    con = duckdb.connect(str(service.db_path), read_only=True)
    bands = con.execute("SELECT price_band, count(*), min(mean_price), max(mean_price) "
                        "FROM articles GROUP BY 1").df().set_index("price_band")
    sold = bands.loc[["low", "mid", "high"], "count_star()"]
    assert (sold / sold.sum()).between(0.25, 0.42).all()
    assert bands.loc["low", "max(mean_price)"] <= bands.loc["mid", "min(mean_price)"]
    assert bands.loc["mid", "max(mean_price)"] <= bands.loc["high", "min(mean_price)"]
    # Articles of the catalogue never sold in the sample have no price to band.
    unknown = con.execute("SELECT count(*) FROM articles WHERE price_band = 'unknown' "
                          "AND mean_price IS NOT NULL").fetchone()[0]
    assert unknown == 0


def test_database_is_reused_until_an_input_changes(run_copy):
    path = ensure_app_database(run_copy)
    built = path.stat().st_mtime_ns
    assert ensure_app_database(run_copy).stat().st_mtime_ns == built

    # A rewritten recommendation file (new size or time) makes the database stale.
    rec = run_copy.recommendations_dir / "popularity.parquet"
    frame = pd.read_parquet(rec)
    frame[frame["rank"] <= 3].to_parquet(rec, index=False)
    path = ensure_app_database(run_copy)
    assert path.stat().st_mtime_ns != built
    with duckdb.connect(str(path), read_only=True) as con:
        ranks = con.execute("SELECT max(rank) FROM recommendations "
                            "WHERE method = 'popularity'").fetchone()[0]
    assert ranks == 3


def test_run_without_dataset_is_refused(run_copy):
    shutil.rmtree(run_copy.dataset_dir)
    with pytest.raises(DataError, match=r"run directory has no dataset/ \(expected .*dataset.json"):
        ensure_app_database(run_copy)


def test_recommendations_naming_unknown_articles_are_refused(run_copy, dataset):
    rec = run_copy.recommendations_dir / "repurchase.parquet"
    frame = pd.read_parquet(rec)
    frame.loc[0, "article_idx"] = dataset.num_articles + 5
    frame.to_parquet(rec, index=False)
    top = dataset.num_articles + 5
    with pytest.raises(DataError, match=rf"repurchase.parquet: article_idx must be in "
                                        rf"0..{dataset.num_articles - 1} \(got \d+..{top}\)"):
        ensure_app_database(run_copy)
    assert not app_database_path(run_copy).exists()  # no half-built file left behind


def test_index_orders_each_customer_by_rank():
    index = RecommendationIndex.from_arrays(
        "m", 4, customer_idx=np.array([2, 0, 2, 2, 0]), rank=np.array([3, 2, 1, 2, 1]),
        article_idx=np.array([30, 20, 10, 20, 10]), scores=np.array([.1, .2, .9, .5, .8]),
        from_model=np.array([False, True, True, True, True]))
    articles, scores, from_model = index.lookup(2, 10)
    assert articles.tolist() == [10, 20, 30]
    assert scores.tolist() == pytest.approx([.9, .5, .1])
    assert from_model.tolist() == [True, True, False]
    assert index.lookup(1, 10)[0].tolist() == [] and index.lookup(3, 5)[0].tolist() == []
    assert index.lookup(0, 1)[0].tolist() == [10]
    assert index.num_customers_covered == 2


def test_index_refuses_customers_outside_the_run():
    with pytest.raises(DataError, match=r"recommendations of 'm': customer_idx must be in "
                                        r"0..2 \(got 0..3\)"):
        RecommendationIndex.from_arrays("m", 3, customer_idx=np.array([0, 3]),
                                        rank=np.array([1, 1]), article_idx=np.array([1, 1]),
                                        scores=np.zeros(2), from_model=np.ones(2, bool))


def test_index_matches_the_saved_files(service, run_dir):
    run = RunDirectory(run_dir)
    for method in run.recommendation_labels():
        saved = run.load_recommendations(method)
        index = service.indexes[method]
        for customer_idx in saved["customer_idx"].drop_duplicates().sample(20, random_state=0):
            rows = saved[saved["customer_idx"] == customer_idx].sort_values("rank")
            articles, _, from_model = index.lookup(customer_idx, 100)
            assert articles.tolist() == rows["article_idx"].tolist()
            assert from_model.tolist() == rows["from_model"].tolist()


def test_agreement_counts_only_the_methods_own_slots(service, customer_with_history):
    comparison = service.compare(customer_with_history, 12)
    own: dict[str, set[str]] = {}
    for method, rec_list in comparison.lists.items():
        for item in rec_list.items:
            if item.from_model:
                own.setdefault(item.article.article_id, set()).add(method)
    expected = {a: ms for a, ms in own.items() if len(ms) >= 2}
    assert {a: set(ms) for a, ms in comparison.agreement.items()} == expected


def test_serving_never_imports_model_libraries(run_dir):
    """The API and the app start without torch, numba, torch_geometric or neo4j."""
    code = (
        "import sys, json\n"
        "from fashiongraph.serving.api import create_app_from_run\n"
        "import fashiongraph.serving.streamlit_app\n"
        "import fashiongraph.commands.serve, fashiongraph.commands.app\n"
        f"create_app_from_run({str(run_dir)!r})\n"
        "heavy = ['torch', 'torch_geometric', 'numba', 'neo4j', 'graphdatascience', 'faiss']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
