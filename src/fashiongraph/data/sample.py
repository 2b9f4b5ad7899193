"""Paths of the real H&M samples bundled with fashiongraph under ``data/`` in the repository.

- ``data/hm_sample/``: 1,364 customers with their whole 2018-09-20..2020-09-22 history, the full
  articles table and a share of the article images (see its PROVENANCE.md);
- ``data/hm_lastweek/``: every transaction of 2020-09-16..22 of half of the customers.

The package is installed editable from a checkout, so the data is found next to ``src/``. Where
it is not (an installed wheel), set ``FASHIONGRAPH_DATA`` to a folder holding ``hm_sample/`` and
``hm_lastweek/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fashiongraph.errors import DataError

DATA_ENV = "FASHIONGRAPH_DATA"
"""Environment variable naming the data folder when the repository checkout has none."""

SAMPLE_TEST_START = "2020-09-16"
"""First day of the sample task's test window (7 days, 2020-09-16..22)."""

LASTWEEK_TEST_START = "2020-09-22"
"""The one-week task: graph from 2020-09-16..21, test on 2020-09-22."""


@dataclass(frozen=True)
class SamplePaths:
    """Files of one bundled sample; ``customers`` and ``images`` may be ``None``."""

    articles: Path
    transactions: Path
    customers: Path | None = None
    images: Path | None = None


def data_dir() -> Path:
    """The folder holding the bundled samples.

    The repository's ``data/`` (found from this module's location) comes first, then the folder
    named by ``FASHIONGRAPH_DATA``.

    Raises
    ------
    DataError
        Neither holds ``hm_sample/``.
    """
    repo_data = Path(__file__).resolve().parents[3] / "data"
    candidates = [repo_data]
    env = os.environ.get(DATA_ENV)
    if env:
        candidates.append(Path(env).expanduser())
    for folder in candidates:
        if (folder / "hm_sample").is_dir():
            return folder
    tried = ", ".join(str(c) for c in candidates)
    raise DataError(
        f"bundled sample data not found: no hm_sample/ folder in {tried}; run from a "
        f"fashiongraph checkout or set {DATA_ENV} to the folder holding hm_sample/ "
        f"(got {DATA_ENV}={env!r})"
    )


def _existing(path: Path) -> Path:
    if not path.exists():
        raise DataError(f"bundled sample file missing: {path} (the checkout is incomplete; "
                        "restore it with `git checkout -- data/`)")
    return path


def sample_paths() -> SamplePaths:
    """The 1,364-customer sample: articles, customers, transactions and images folder.

    The images folder uses the H&M layout ``images/<first 3 digits>/<article_id>.jpg`` and holds
    only a share of the articles; a missing image is normal.
    """
    folder = data_dir() / "hm_sample"
    return SamplePaths(
        articles=_existing(folder / "articles.parquet"),
        transactions=_existing(folder / "transactions_train_sample.csv"),
        customers=_existing(folder / "customers_sample.csv"),
        images=_existing(folder / "images"),
    )


def lastweek_paths() -> SamplePaths:
    """The one-week sample: transactions of 2020-09-16..22 (no customers table, no images).

    Its article ids lost their leading zero (9 characters); ingest pads them. The articles are
    the full table of ``hm_sample``.
    """
    folder = data_dir()
    return SamplePaths(
        articles=_existing(folder / "hm_sample" / "articles.parquet"),
        transactions=_existing(
            folder / "hm_lastweek" / "transactions_2020-09-16_22_half_a.parquet"),
    )
