"""End to end: the evaluate command and the pipeline on the bundled real samples."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from fashiongraph.artifacts import RunDirectory
from fashiongraph.cli import main
from fashiongraph.data.dataset import Dataset
from fashiongraph.errors import DataError
from fashiongraph.evaluation.evaluate import Split, evaluate
from fashiongraph.recommenders.base import FitContext, available_methods, make_recommender

FAST = {"graphsage": {"max_steps": 30}}


def test_nothing_from_the_test_window_reaches_any_model(sample_dataset):
    """Scramble every transaction on or after the cutoff: no recommendation may change."""
    cutoff = pd.Timestamp("2020-09-16")
    tx = sample_dataset.transactions.copy()
    future = tx["t_dat"] >= cutoff
    rng = np.random.default_rng(0)
    tx.loc[future, "article_idx"] = rng.integers(0, sample_dataset.num_articles,
                                                 future.sum()).astype(np.int32)
    tx.loc[future, "quantity"] = 50
    scrambled = replace(sample_dataset, transactions=tx)
    customers = np.arange(0, sample_dataset.num_customers, 7)
    for method in available_methods():
        a = make_recommender(method, **FAST.get(method, {})).fit(
            FitContext(sample_dataset, cutoff)).recommend(customers, 12)
        b = make_recommender(method, **FAST.get(method, {})).fit(
            FitContext(scrambled, cutoff)).recommend(customers, 12)
        assert np.array_equal(a.article_idx, b.article_idx), method


def test_lastweek_baselines_match_known_values(lastweek_dataset):
    """Graph from 09-16..21, test 09-22: the numbers the issue quotes for the baselines."""
    res = evaluate(lastweek_dataset, Split(test_start="2020-09-22", test_days=1),
                   methods=["popularity", "repurchase"], bootstrap_samples=100)
    by = {r.label: r.metrics["all"]["map"] for r in res.methods}
    assert len(res.test_customers) == 5251
    assert by["popularity"] == pytest.approx(0.0084, abs=0.0015)
    assert by["repurchase"] == pytest.approx(0.036, abs=0.003)
    assert {c["verdict"] for c in res.comparisons} <= {"beats", "worse",
                                                       "no significant difference"}


def test_empty_test_window_is_an_error(tiny_dataset):
    with pytest.raises(DataError, match=r"no transactions in the test window 2021-01-01"):
        evaluate(tiny_dataset, Split(test_start="2021-01-01"), methods=["popularity"])
    with pytest.raises(DataError, match="no transactions before the test start 2020-09-01"):
        evaluate(tiny_dataset, Split(test_start="2020-09-01"), methods=["popularity"])


def test_evaluate_command_writes_report_and_run(tmp_path, capsys):
    from fashiongraph.data.sample import sample_paths

    p = sample_paths()
    out = tmp_path / "sample.json"
    code = main(["evaluate", "--articles", str(p.articles), "--transactions",
                 str(p.transactions), "--customers", str(p.customers),
                 "--test-start", "2020-09-16", "--methods", "popularity", "repurchase", "random_walk", "fastrp_knn",
                 "--out", str(out), "--run-dir", str(tmp_path / "run")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "repurchase" in printed and "random_walk vs popularity:" in printed
    report = json.loads(out.read_text())
    labels = [m["label"] for m in report["tasks"][0]["methods"]]
    assert labels == ["popularity", "repurchase", "random_walk", "random_walk[keep_purchased]",
                      "fastrp_knn", "fastrp_knn[keep_purchased]"]
    assert (tmp_path / "report.md").exists() and (tmp_path / "map_sample.png").exists()

    run = RunDirectory(tmp_path / "run")
    manifest = run.read_manifest()
    assert manifest["cutoff"] == "2020-09-16"
    dataset = Dataset.load(run.dataset_dir)
    recs = run.load_recommendations("random_walk")
    # Every customer of the dataset has a saved list, not only the test customers.
    assert recs["customer_idx"].nunique() == dataset.num_customers

    code = main(["recommend", "--run", str(tmp_path / "run"), "--customer",
                 dataset.customers["customer_id"].iloc[0], "--method", "random_walk"])
    assert code == 0
    assert "1. 0" in capsys.readouterr().out


def test_recommend_command_errors(tmp_path, capsys):
    code = main(["recommend", "--customer", "x"])
    assert code == 2
    assert "give --run DIR, or --articles and --transactions" in capsys.readouterr().err
    code = main(["recommend", "--customer", "x", "--run", str(tmp_path)])
    assert code == 2
    assert "no manifest.json" in capsys.readouterr().err


@pytest.mark.parametrize("option, message", [
    (["--device", "tpu"], r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N' \(got 'tpu'\)"),
    (["--max-minutes", "0"], r"max_minutes must be > 0 or None for no limit: a zero budget "
                             r"trains nothing \(got 0.0\)"),
    (["--max-steps", "0"], r"max_steps must be an integer >= 1: a zero budget trains nothing "
                           r"\(got 0\)"),
])
def test_graphsage_options_are_checked_before_any_data_is_read(tmp_path, capsys, option,
                                                                message):
    import re

    code = main(["evaluate", "--articles", str(tmp_path / "missing.parquet"),
                 "--transactions", str(tmp_path / "missing.csv"), "--test-start", "2020-09-16",
                 "--methods", "graphsage", "--out", str(tmp_path / "r.json")] + option)
    assert code == 2
    assert re.search(r"fashiongraph evaluate: error: " + message, capsys.readouterr().err)


@pytest.mark.slow
def test_evaluate_command_with_graphsage(tmp_path, capsys):
    """GraphSAGE from the raw tables: its MAP in the table, its training curves in the report."""
    pytest.importorskip("torch_geometric")
    from fashiongraph.data.sample import sample_paths

    p = sample_paths()
    out = tmp_path / "sample.json"
    code = main(["evaluate", "--articles", str(p.articles), "--transactions",
                 str(p.transactions), "--customers", str(p.customers),
                 "--test-start", "2020-09-16", "--methods", "popularity", "graphsage",
                 "--max-steps", "20", "--device", "cpu", "--out", str(out),
                 "--run-dir", str(tmp_path / "run")])
    assert code == 0
    assert "graphsage vs popularity:" in capsys.readouterr().out
    methods = {m["label"]: m for m in json.loads(out.read_text())["tasks"][0]["methods"]}
    assert set(methods) == {"popularity", "graphsage", "graphsage[keep_purchased]"}
    sage = methods["graphsage"]
    assert sage["params"]["max_steps"] == 20 and sage["params"]["device"] == "cpu"
    assert sage["extras"]["training_history"][-1]["steps"] == 20
    report = (tmp_path / "report.md").read_text()
    assert "![training curves of graphsage](training_sample_graphsage.png)" in report
    assert "graphsage[keep_purchased] ranks with the same trained model as graphsage" in report
    assert (tmp_path / "training_sample_graphsage.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "run" / "models" / "graphsage" / "manifest.json").exists()


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "--articles", "a.csv", "--transactions", "t.csv", "--test-start",
      "2020-13-45", "--out", "r.json"],
     "argument --test-start: not a day YYYY-MM-DD (got '2020-13-45')"),
    (["recommend", "--customer", "c", "--cutoff", "yesterday"],
     "argument --cutoff: not a day YYYY-MM-DD (got 'yesterday')"),
])
def test_impossible_days_are_refused_naming_the_option(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
