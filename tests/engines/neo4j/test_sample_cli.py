"""``fashiongraph evaluate --engine neo4j`` on the bundled sample prints and writes the report."""

from __future__ import annotations

import json

import pytest

from fashiongraph.cli import main
from fashiongraph.data import sample

pytestmark = pytest.mark.neo4j


def test_evaluate_with_the_neo4j_engine(sample_engine, tmp_path, capsys):
    paths = sample.sample_paths()
    out = tmp_path / "report.json"
    code = main(["--no-progress", "evaluate", "--articles", str(paths.articles),
                 "--transactions", str(paths.transactions), "--customers", str(paths.customers),
                 "--test-start", "2020-09-16", "--methods", "popularity", "random_walk",
                 "fastrp_knn", "--engine", "neo4j", "--neo4j-load", "existing", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "engine neo4j" in printed
    for label in ("popularity", "random_walk", "fastrp_knn[keep_purchased]"):
        assert f"\n{label} " in printed
    report = json.loads(out.read_text())
    assert report["tasks"][0]["engine"] == "neo4j"
    assert "Engine: neo4j." in (tmp_path / "report.md").read_text()


def test_evaluate_names_an_unreachable_neo4j(tmp_path, capsys):
    paths = sample.sample_paths()
    code = main(["evaluate", "--articles", str(paths.articles), "--transactions",
                 str(paths.transactions), "--test-start", "2020-09-16", "--methods",
                 "random_walk", "--engine", "neo4j", "--neo4j-uri", "bolt://127.0.0.1:1",
                 "--out", str(tmp_path / "r.json")])
    assert code == 2
    assert "fashiongraph evaluate: error: Neo4j is not reachable at bolt://127.0.0.1:1" in \
        capsys.readouterr().err
