"""The bundled real samples under data/ and how they are found."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fashiongraph.data import sample
from fashiongraph.errors import DataError

REPO = Path(__file__).resolve().parents[2]


def test_sample_paths_point_into_the_checkout():
    paths = sample.sample_paths()
    assert paths.articles == REPO / "data" / "hm_sample" / "articles.parquet"
    for p in (paths.articles, paths.transactions, paths.customers):
        assert p.is_file()
    lw = sample.lastweek_paths()
    assert lw.transactions.is_file() and lw.customers is None and lw.articles == paths.articles


def test_bundled_images_use_the_hm_layout_and_stay_small():
    paths = sample.sample_paths()
    images = sorted(paths.images.rglob("*.jpg"))
    assert 1000 < len(images)
    assert sum(p.stat().st_size for p in images) <= 25_000_000
    for p in images:
        assert len(p.stem) == 10 and p.parent.name == p.stem[:3]
    # every article bought by the sample customers in the test week has its image
    tx = pd.read_csv(paths.transactions, dtype=str)
    week = set(tx.loc[tx["t_dat"] >= sample.SAMPLE_TEST_START, "article_id"])
    assert len(week) > 100
    assert week <= {p.stem for p in images}
    # and each image is of an article in the bundled articles table
    ids = set(pd.read_parquet(paths.articles, columns=["article_id"])["article_id"])
    assert {p.stem for p in images} <= ids


def test_no_bundled_file_over_5_mb():
    big = [p for p in (REPO / "data").rglob("*") if p.is_file() and p.stat().st_size > 5_000_000]
    assert big == []


def test_env_var_is_the_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(sample, "__file__", str(tmp_path / "a" / "b" / "c" / "sample.py"))
    monkeypatch.delenv(sample.DATA_ENV, raising=False)
    with pytest.raises(DataError, match=r"bundled sample data not found: no hm_sample/ folder in "
                                        r".*; run from a fashiongraph checkout or set "
                                        r"FASHIONGRAPH_DATA to the folder holding hm_sample/ "
                                        r"\(got FASHIONGRAPH_DATA=None\)"):
        sample.sample_paths()

    data = tmp_path / "elsewhere"
    (data / "hm_sample").mkdir(parents=True)
    monkeypatch.setenv(sample.DATA_ENV, str(data))
    assert sample.data_dir() == data
    with pytest.raises(DataError, match=r"bundled sample file missing: .*articles.parquet "
                                        r"\(the checkout is incomplete"):
        sample.sample_paths()
