"""The application database: customer and article content for the app and the API, in DuckDB.

Built once per run directory from the canonical tables and the saved recommendations, into
``<run>/serving/app.duckdb``, and rebuilt when any input file changes (size or modification time
differ from the fingerprint stored in the ``meta`` table). The app and the API open it read-only,
so several processes can share it.

Tables::

    articles        article_idx, article_id, name, product_type, product_group, colour,
                    perceived_colour, graphical_appearance, department, index_name, index_group,
                    section, garment_group, description, mean_price, num_sold, price_band
    customers       customer_idx, customer_id, club_member_status, fashion_news_frequency, age,
                    age_band, postal_code, fn, active, purchase_count, num_articles,
                    first_purchase, last_purchase, heldout_count
    transactions    t_dat, customer_idx, article_idx, price, sales_channel_id, quantity,
                    after_cutoff (true for the held-out future the models never saw)
    recommendations method, customer_idx, rank, article_idx, score, from_model
    popular         rank, article_idx (the run's cold-start list)
    meta            key, value (run root, cutoff, fingerprint, build time)

"History" in serving means purchases strictly before the run's cutoff: what the recommenders
learned from. Purchases on or after the cutoff are kept, flagged ``after_cutoff``, so the app can
show which recommendations the customer went on to buy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from fashiongraph.artifacts import RunDirectory
from fashiongraph.errors import DataError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
"""Bumped whenever the tables change shape, so that an old file is rebuilt."""

PRICE_BANDS = ("low", "mid", "high")
"""Labels of the price tertiles; articles never sold get ``"unknown"``."""

_ARTICLE_CONTENT = {
    # app column: H&M column
    "name": "prod_name",
    "product_type": "product_type_name",
    "product_group": "product_group_name",
    "colour": "colour_group_name",
    "perceived_colour": "perceived_colour_master_name",
    "graphical_appearance": "graphical_appearance_name",
    "department": "department_name",
    "index_name": "index_name",
    "index_group": "index_group_name",
    "section": "section_name",
    "garment_group": "garment_group_name",
    "description": "detail_desc",
}

_CUSTOMER_CONTENT = {
    "club_member_status": "club_member_status",
    "fashion_news_frequency": "fashion_news_frequency",
    "age": "age",
    "age_band": "age_band",
    "postal_code": "postal_code",
    "fn": "FN",
    "active": "Active",
}


def app_database_path(run: RunDirectory) -> Path:
    """Where the application database of ``run`` lives."""
    return run.root / "serving" / "app.duckdb"


def run_fingerprint(run: RunDirectory) -> str:
    """A hash of the names, sizes and modification times of every input of the database."""
    files = [run.manifest_path, run.root / "popular.npy"]
    files += sorted(run.dataset_dir.glob("*.parquet")) if run.dataset_dir.exists() else []
    files += sorted(run.recommendations_dir.glob("*.parquet")) if run.recommendations_dir.exists() \
        else []
    parts = [SCHEMA_VERSION]
    for f in files:
        if f.exists():
            st = f.stat()
            parts.append([f.relative_to(run.root).as_posix(), st.st_size, st.st_mtime_ns])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def run_cutoff(manifest: dict) -> pd.Timestamp | None:
    """The run's cutoff from its manifest (``cutoff`` or ``split.cutoff``), or ``None``."""
    value = manifest.get("cutoff")
    if value is None and isinstance(manifest.get("split"), dict):
        value = manifest["split"].get("cutoff")
    return None if value in (None, "") else pd.Timestamp(value)


def ensure_app_database(run: RunDirectory | str | Path, *, rebuild: bool = False) -> Path:
    """Return the path of ``run``'s application database, building it if missing or stale.

    Parameters
    ----------
    run : RunDirectory or path
        The run directory (needs ``manifest.json`` and ``dataset/``).
    rebuild : bool
        Rebuild even when the stored fingerprint matches.
    """
    import duckdb

    run = run if isinstance(run, RunDirectory) else RunDirectory(run)
    path = app_database_path(run)
    fingerprint = run_fingerprint(run)
    if path.exists() and not rebuild:
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                stored = con.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
            if stored is not None and stored[0] == fingerprint:
                return path
            log.info("%s is stale (inputs changed); rebuilding", path)
        except duckdb.Error as exc:
            log.warning("%s cannot be read (%s); rebuilding", path, exc)
    return build_app_database(run, path, fingerprint=fingerprint)


def build_app_database(run: RunDirectory, path: Path, *, fingerprint: str | None = None) -> Path:
    """Fill a fresh DuckDB file at ``path`` from ``run``'s tables; replace ``path`` atomically.

    Raises
    ------
    DataError
        When the run has no dataset, or a recommendation file names a customer or article
        outside the dataset.
    """
    import duckdb

    from fashiongraph.data.dataset import Dataset

    started = time.perf_counter()
    manifest = run.read_manifest()
    cutoff = run_cutoff(manifest)
    if not (run.dataset_dir / "dataset.json").exists():
        raise DataError(f"{run.root}: run directory has no dataset/ (expected "
                        f"{run.dataset_dir / 'dataset.json'}); the app needs the canonical tables")
    dataset = Dataset.load(run.dataset_dir)

    transactions = _transactions_frame(dataset, cutoff)
    articles = _articles_frame(dataset, transactions)
    customers = _customers_frame(dataset, transactions)
    popular = _popular_frame(run, articles)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for name, frame in (("articles", articles), ("customers", customers),
                            ("transactions", transactions), ("popular", popular)):
            con.register("frame_view", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame_view")
            con.unregister("frame_view")
        _load_recommendations(con, run, dataset)
        meta = {
            "run_root": str(run.root.resolve()),
            "run_name": run.root.resolve().name,
            "cutoff": "" if cutoff is None else str(cutoff.date()),
            "fingerprint": fingerprint or run_fingerprint(run),
            "schema_version": str(SCHEMA_VERSION),
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, path)
    log.info("built %s in %.2fs: %d customers, %d articles, %d transactions", path,
             time.perf_counter() - started, len(customers), len(articles), len(transactions))
    return path


# ---------------------------------------------------------------------- frames
def _transactions_frame(dataset, cutoff: pd.Timestamp | None) -> pd.DataFrame:
    """Transactions sorted by customer and date, with the ``after_cutoff`` flag."""
    tx = dataset.transactions
    frame = pd.DataFrame({
        "t_dat": pd.to_datetime(tx["t_dat"]).dt.normalize().astype("datetime64[s]"),
        "customer_idx": tx["customer_idx"].to_numpy(np.int32),
        "article_idx": tx["article_idx"].to_numpy(np.int32),
        "price": tx["price"].to_numpy(np.float32),
        "sales_channel_id": tx["sales_channel_id"].to_numpy(np.int8),
        "quantity": tx["quantity"].to_numpy(np.int32),
    })
    frame["after_cutoff"] = False if cutoff is None else (frame["t_dat"] >= cutoff)
    return frame.sort_values(["customer_idx", "t_dat"], kind="stable").reset_index(drop=True)


def _articles_frame(dataset, transactions: pd.DataFrame) -> pd.DataFrame:
    """Article content plus mean price, units sold before the cutoff and a price band."""
    src = dataset.articles
    frame = pd.DataFrame({"article_idx": np.arange(len(src), dtype=np.int32),
                          "article_id": src["article_id"].astype(str).to_numpy()})
    for column, hm_column in _ARTICLE_CONTENT.items():
        if hm_column in src:
            frame[column] = src[hm_column].astype("string").to_numpy()
        else:
            frame[column] = pd.array([pd.NA] * len(src), dtype="string")

    # The price band is content (what the article costs), so every transaction counts; units
    # sold is behaviour, so only the past before the cutoff counts.
    units = transactions["quantity"].to_numpy(np.float64)
    idx = transactions["article_idx"].to_numpy()
    revenue = np.bincount(idx, weights=transactions["price"].to_numpy(np.float64) * units,
                          minlength=len(src))
    sold_all = np.bincount(idx, weights=units, minlength=len(src))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_price = np.where(sold_all > 0, revenue / sold_all, np.nan)
    past = ~transactions["after_cutoff"].to_numpy()
    frame["mean_price"] = mean_price
    frame["num_sold"] = np.bincount(idx[past], weights=units[past],
                                    minlength=len(src)).astype(np.int64)
    frame["price_band"] = _price_bands(mean_price)
    return frame


def _price_bands(mean_price: np.ndarray) -> np.ndarray:
    """Tertile labels of ``mean_price`` (float64 array of shape (num_articles,), NaN = unsold)."""
    bands = np.full(len(mean_price), "unknown", dtype=object)
    known = ~np.isnan(mean_price)
    if known.sum() >= len(PRICE_BANDS):
        edges = np.quantile(mean_price[known], [1 / 3, 2 / 3])
        bands[known] = np.array(PRICE_BANDS, dtype=object)[np.searchsorted(edges,
                                                                           mean_price[known],
                                                                           side="right")]
    elif known.any():
        bands[known] = "mid"
    return bands


def _customers_frame(dataset, transactions: pd.DataFrame) -> pd.DataFrame:
    """Customer content plus purchase counts before and after the cutoff."""
    src = dataset.customers
    n = len(src)
    frame = pd.DataFrame({"customer_idx": np.arange(n, dtype=np.int32),
                          "customer_id": src["customer_id"].astype(str).to_numpy()})
    for column, hm_column in _CUSTOMER_CONTENT.items():
        if hm_column in src:
            frame[column] = src[hm_column].to_numpy()
        else:
            frame[column] = None
    frame["age"] = pd.to_numeric(frame["age"], errors="coerce").astype("float64")
    for column in ("club_member_status", "fashion_news_frequency", "age_band", "postal_code"):
        frame[column] = frame[column].astype("string")
    frame["fn"] = pd.to_numeric(frame["fn"], errors="coerce").astype("float64")
    frame["active"] = pd.to_numeric(frame["active"], errors="coerce").astype("float64")

    past = transactions[~transactions["after_cutoff"]]
    cidx = past["customer_idx"].to_numpy()
    frame["purchase_count"] = np.bincount(cidx, weights=past["quantity"].to_numpy(np.float64),
                                          minlength=n).astype(np.int64)
    pairs = past[["customer_idx", "article_idx"]].drop_duplicates()
    frame["num_articles"] = np.bincount(pairs["customer_idx"].to_numpy(),
                                        minlength=n).astype(np.int64)
    dates = past.groupby("customer_idx")["t_dat"].agg(["min", "max"])
    frame["first_purchase"] = pd.Series(dates["min"]).reindex(range(n)).to_numpy()
    frame["last_purchase"] = pd.Series(dates["max"]).reindex(range(n)).to_numpy()
    future = transactions[transactions["after_cutoff"]]
    frame["heldout_count"] = np.bincount(future["customer_idx"].to_numpy(),
                                         weights=future["quantity"].to_numpy(np.float64),
                                         minlength=n).astype(np.int64)
    return frame


def _popular_frame(run: RunDirectory, articles: pd.DataFrame) -> pd.DataFrame:
    """The run's cold-start list, or units sold before the cutoff when it saved none."""
    path = run.root / "popular.npy"
    if path.exists():
        ranked = np.asarray(run.load_popular(), dtype=np.int64)
        bad = (ranked < 0) | (ranked >= len(articles))
        if bad.any():
            raise DataError(f"{path}: article_idx must be in 0..{len(articles) - 1} "
                            f"(got {ranked[bad][:5].tolist()})")
    else:
        log.warning("%s missing; the fallback ranks articles by units sold before the cutoff",
                    path)
        sold = articles["num_sold"].to_numpy()
        ranked = np.argsort(-sold, kind="stable")
        ranked = ranked[sold[ranked] > 0]
    return pd.DataFrame({"rank": np.arange(1, len(ranked) + 1, dtype=np.int32),
                         "article_idx": ranked.astype(np.int32)})


def _load_recommendations(con, run: RunDirectory, dataset) -> None:
    """Copy every ``recommendations/<label>.parquet`` into one table, checking its indices."""
    con.execute("CREATE TABLE recommendations (method VARCHAR, customer_idx INTEGER, "
                "rank SMALLINT, article_idx INTEGER, score FLOAT, from_model BOOLEAN)")
    for label in run.recommendation_labels():
        path = run.recommendations_dir / f"{label}.parquet"
        con.execute(
            "INSERT INTO recommendations SELECT ?, customer_idx, rank, article_idx, "
            "CASE WHEN isnan(score) THEN NULL ELSE score END, from_model "
            "FROM read_parquet(?) ORDER BY customer_idx, rank",
            [label, str(path)],
        )
        lo_c, hi_c, lo_a, hi_a = con.execute(
            "SELECT min(customer_idx), max(customer_idx), min(article_idx), max(article_idx) "
            "FROM recommendations WHERE method = ?", [label]).fetchone()
        if lo_c is not None and (lo_c < 0 or hi_c >= dataset.num_customers):
            raise DataError(f"{path}: customer_idx must be in 0..{dataset.num_customers - 1} "
                            f"(got {lo_c}..{hi_c})")
        if lo_a is not None and (lo_a < 0 or hi_a >= dataset.num_articles):
            raise DataError(f"{path}: article_idx must be in 0..{dataset.num_articles - 1} "
                            f"(got {lo_a}..{hi_a})")
