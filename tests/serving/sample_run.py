"""A small real run directory for the serving tests, written with the ``RunDirectory`` writers.

Input: the real hm_hungle45 sample (1,364 customers with their full history) and the full H&M
articles table from hm_tisha1503, cut at 2020-09-16 (the last week is held out). The methods are
simple, real computations on the past only, so every column of the app has honest content:

- ``popularity``: units sold in the last 7 days before the cutoff, the same list for everyone.
- ``repurchase``: the customer's own most bought articles (recency-weighted), then popularity.
- ``copurchase``: articles bought by customers who bought the same articles (item-item counts
  over the last 90 days), then popularity.

Customers without purchases before the cutoff get no rows, so the API's fallback is exercised.
This stands in for the pipeline's run until ``fashiongraph demo`` writes one; the tests prefer
the pipeline's run when ``FASHIONGRAPH_TEST_RUN`` names one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fashiongraph.artifacts import RunDirectory
from fashiongraph.data.dataset import TRANSACTION_DTYPES, Dataset
from fashiongraph.data.schema import age_band
from fashiongraph.recommenders.base import Recommendations

REAL = Path("/work/shared/data/real")
HUNGLE = REAL / "hm_hungle45" / "3b7354e7"
ARTICLES = REAL / "hm_tisha1503" / "articles.parquet"
IMAGES = HUNGLE / "images"
CUTOFF = pd.Timestamp("2020-09-16")


def sample_available() -> bool:
    return (HUNGLE / "transactions_train_sample.csv").exists() and ARTICLES.exists()


def load_sample_dataset() -> Dataset:
    """The hungle45 customers and transactions with the articles they bought, in canonical form."""
    tx = pd.read_csv(HUNGLE / "transactions_train_sample.csv",
                     dtype={"article_id": str, "customer_id": str})
    customers = pd.read_csv(HUNGLE / "customers_sample.csv", dtype={"customer_id": str})
    articles = pd.read_parquet(ARTICLES)
    articles = articles[articles["article_id"].isin(tx["article_id"].unique())]
    articles = articles.sort_values("article_id").reset_index(drop=True)
    customers = customers.sort_values("customer_id").reset_index(drop=True)
    customers["age_band"] = [age_band(a) for a in customers["age"]]

    # One row per unit bought in H&M data: exact duplicates become a quantity.
    tx = tx.groupby(list(tx.columns), as_index=False, sort=False).size()
    tx = tx.rename(columns={"size": "quantity"})
    canonical = pd.DataFrame({
        "t_dat": pd.to_datetime(tx["t_dat"]),
        "customer_idx": pd.Index(customers["customer_id"]).get_indexer(tx["customer_id"]),
        "article_idx": pd.Index(articles["article_id"]).get_indexer(tx["article_id"]),
        "price": tx["price"],
        "sales_channel_id": tx["sales_channel_id"],
        "quantity": tx["quantity"],
    }).astype(TRANSACTION_DTYPES).sort_values("t_dat", kind="stable").reset_index(drop=True)
    assert (canonical["customer_idx"] >= 0).all() and (canonical["article_idx"] >= 0).all()
    return Dataset(articles=articles, customers=customers, transactions=canonical,
                   notes=["serving test sample: hm_hungle45 + hm_tisha1503 articles"])


def _top_k(scores: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-k of a sparse score matrix; -1 / nan pad short rows."""
    n = scores.shape[0]
    out_a = np.full((n, k), -1, dtype=np.int64)
    out_s = np.full((n, k), np.nan, dtype=np.float32)
    for i in range(n):
        lo, hi = scores.indptr[i], scores.indptr[i + 1]
        cols, vals = scores.indices[lo:hi], scores.data[lo:hi]
        order = np.lexsort((cols, -vals))[:k]
        out_a[i, :len(order)] = cols[order]
        out_s[i, :len(order)] = vals[order]
    return out_a, out_s


def _fill(method, customers, cand_a, cand_s, popular, k) -> Recommendations:
    """Fill short rows from the popular list; count the leading slots from the method."""
    out_a = np.full((len(customers), k), -1, dtype=np.int64)
    out_s = np.full((len(customers), k), np.nan, dtype=np.float32)
    from_model = np.zeros(len(customers), dtype=np.int32)
    for i in range(len(customers)):
        own = cand_a[i][cand_a[i] >= 0][:k]
        from_model[i] = len(own)
        rest = popular[~np.isin(popular, own)][:k - len(own)]
        out_a[i] = np.concatenate([own, rest])
        out_s[i, :len(own)] = cand_s[i][:len(own)]
    return Recommendations(method, np.asarray(customers, np.int64), out_a, out_s, from_model)


def build_sample_run(out: str | Path, *, k: int = 12) -> RunDirectory:
    """Write a complete run directory (dataset, popular.npy, recommendations, report, manifest)."""
    run = RunDirectory(out)
    dataset = load_sample_dataset()
    dataset.save(run.dataset_dir)
    train = dataset.before(CUTOFF)
    tx = train.transactions
    n_art = dataset.num_articles

    # Popularity over the last week before the cutoff, ties broken by the whole past.
    recent = tx[tx["t_dat"] >= CUTOFF - pd.Timedelta(days=7)]
    week = np.bincount(recent["article_idx"], weights=recent["quantity"], minlength=n_art)
    total = np.bincount(tx["article_idx"], weights=tx["quantity"], minlength=n_art)
    popular = np.lexsort((np.arange(n_art), -total, -week))
    popular = popular[(week + total)[popular] > 0].astype(np.int64)
    run.save_popular(popular)

    active = np.unique(tx["customer_idx"].to_numpy()).astype(np.int64)
    pop_scores = np.full((len(active), k), np.nan, dtype=np.float32)
    pop_scores[:] = week[popular[:k]] / max(week.max(), 1)
    run.save_recommendations(Recommendations(
        "popularity", active, np.tile(popular[:k], (len(active), 1)), pop_scores,
        np.full(len(active), k, dtype=np.int32)))

    # Repurchase: recency-weighted units per (customer, article).
    age_days = (CUTOFF - tx["t_dat"]).dt.days.to_numpy()
    weight = tx["quantity"].to_numpy() * 0.5 ** (age_days / 30.0)
    own = sp.csr_matrix((weight, (tx["customer_idx"], tx["article_idx"])),
                        shape=(dataset.num_customers, n_art))
    own.sum_duplicates()
    cand_a, cand_s = _top_k(own[active], k)
    run.save_recommendations(_fill("repurchase", active, cand_a, cand_s, popular, k))

    # Co-purchase: item-item counts over the last 90 days, scored through the customer's items.
    window = tx[tx["t_dat"] >= CUTOFF - pd.Timedelta(days=90)]
    bought = sp.csr_matrix((np.ones(len(window)), (window["customer_idx"], window["article_idx"])),
                           shape=(dataset.num_customers, n_art))
    bought.data[:] = 1.0
    item_item = (bought.T @ bought).tocsr()
    item_item.setdiag(0)
    item_item.eliminate_zeros()
    binary = own.copy()
    binary.data[:] = 1.0
    scores = (binary[active] @ item_item).tocsr()
    scores = scores - scores.multiply(binary[active])
    scores.eliminate_zeros()
    cand_a, cand_s = _top_k(scores.tocsr(), k)
    run.save_recommendations(_fill("copurchase", active, cand_a, cand_s, popular, k))

    _write_report(run, dataset, k)
    run.write_manifest({"cutoff": str(CUTOFF.date()), "k": k,
                        "methods": run.recommendation_labels(),
                        "images": str(IMAGES),
                        "source": "tests/serving/sample_run.py (hm_hungle45 + hm_tisha1503)"})
    return run


def _write_report(run: RunDirectory, dataset: Dataset, k: int) -> None:
    """Hit rate of each method on the held-out week, as a table and a bar chart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    future = dataset.transactions[dataset.transactions["t_dat"] >= CUTOFF]
    truth = future.groupby("customer_idx")["article_idx"].agg(set)
    rows = []
    for label in run.recommendation_labels():
        recs = run.load_recommendations(label)
        recs = recs[recs["customer_idx"].isin(truth.index)]
        hits = recs[[a in truth[c] for c, a in zip(recs["customer_idx"], recs["article_idx"])]]
        customers = recs["customer_idx"].nunique()
        rows.append({"method": label, "customers": customers,
                     "hit_rate": hits["customer_idx"].nunique() / max(customers, 1)})
    table = pd.DataFrame(rows)
    run.report_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(table["method"], table["hit_rate"], color="#5c6bc0")
    ax.set_ylabel(f"hit rate @ {k}")
    ax.set_title("held-out week 2020-09-16..22")
    fig.tight_layout()
    fig.savefig(run.report_dir / "hit_rate.png", dpi=80)
    plt.close(fig)
    lines = ["# Evaluation report (serving test sample)", "",
             f"Cutoff {CUTOFF.date()}; customers with a purchase in the held-out week.", "",
             "| method | customers | hit rate |", "|---|---|---|"]
    lines += [f"| {r.method} | {r.customers} | {r.hit_rate:.3f} |" for r in table.itertuples()]
    lines += ["", "![hit rate](hit_rate.png)", ""]
    (run.report_dir / "report.md").write_text("\n".join(lines))
    (run.report_dir / "report.json").write_text(table.to_json(orient="records"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="run directory to write")
    print(build_sample_run(parser.parse_args().out).root)
