"""The synthetic generator against the real H&M tables bundled under data/hm_sample/.

The real reference is the by-customer sample (1,364 customers with their complete two-year
histories) and the full articles table. The synthetic tables are generated at a small size and,
where a statistic depends on the number of rows (distinct articles per row, top-article share),
compared on a prefix of synthetic customers holding as many rows as the real sample.

Tolerances are stated next to each check; they are wider than the seed-to-seed spread at this
size (measured over seeds 0..4) and narrower than what a wrong model gives (e.g. uniform article
popularity, no repurchase, no multi-unit rows, uniform weekdays).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from fashiongraph.data.ingest import load_dataset
from fashiongraph.data.sample import sample_paths
from fashiongraph.data.synth import SynthParams, generate
from fashiongraph.data.synth_stats import HIERARCHY_COLUMNS, derive_statistics, load_statistics
from fashiongraph.errors import ConfigError

N_CUSTOMERS = 3000
N_TRANSACTIONS = 69_640  # 23.21 rows per customer, as in the real sample


@pytest.fixture(scope="module")
def real():
    paths = sample_paths()
    tx = pd.read_csv(paths.transactions, dtype={"article_id": str, "customer_id": str})
    customers = pd.read_csv(paths.customers, dtype={"customer_id": str, "postal_code": str})
    articles = pd.read_parquet(paths.articles)
    return {"transactions": tx, "customers": customers, "articles": articles, "paths": paths}


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    params = SynthParams(customers=N_CUSTOMERS, articles=105_542, transactions=N_TRANSACTIONS,
                         seed=0)
    summary = generate(params, out, formats="both")
    tx = pd.read_csv(out / "transactions_train.csv", dtype={"article_id": str,
                                                             "customer_id": str})
    return {
        "out": out, "summary": summary, "transactions": tx,
        "customers": pd.read_csv(out / "customers.csv", dtype={"customer_id": str,
                                                               "postal_code": str}),
        "articles": pd.read_parquet(out / "articles.parquet"),
        "truth": pd.read_parquet(out / "ground_truth.parquet"),
    }


def _prefix(tx: pd.DataFrame, rows: int) -> pd.DataFrame:
    """Transactions of the first customers (in id order) that hold about ``rows`` rows."""
    per_customer = tx.groupby("customer_id").size().sort_index()
    keep = per_customer.index[per_customer.cumsum() <= rows]
    return tx[tx["customer_id"].isin(keep)]


def _tvd(a: pd.Series, b: pd.Series) -> float:
    """Total variation distance between two categorical distributions."""
    p = a.value_counts(normalize=True, dropna=False)
    q = b.value_counts(normalize=True, dropna=False)
    return 0.5 * float(p.sub(q, fill_value=0.0).abs().sum())


def _repurchase_share(tx: pd.DataFrame) -> float:
    lines = tx.drop_duplicates()
    first = lines.groupby(["customer_id", "article_id"])["t_dat"].transform("min")
    return float((lines["t_dat"] > first).mean())


# --------------------------------------------------------------------------- schema
def test_schema_equals_the_real_tables(real, synth):
    for name in ("transactions", "customers", "articles"):
        assert list(synth[name].columns) == list(real[name].columns), name
        assert synth[name].dtypes.astype(str).tolist() == real[name].dtypes.astype(str).tolist()
    tx = synth["transactions"]
    assert len(tx) == N_TRANSACTIONS
    assert tx["article_id"].str.fullmatch(r"0\d{9}").all()
    assert tx["customer_id"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert synth["customers"]["postal_code"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert set(tx["sales_channel_id"]) == {1, 2}
    assert pd.to_datetime(tx["t_dat"]).between("2018-09-20", "2020-09-22").all()
    assert tx["t_dat"].is_monotonic_increasing
    # Prices on H&M's scale: SEK price points x.99 divided by 590, like the real ones.
    sek = (tx["price"] * 590).round(2)
    assert ((sek % 1).round(2) == 0.99).all()
    assert tx["price"].between(real["transactions"]["price"].min() * 0.5,
                               real["transactions"]["price"].max() * 1.5).all()
    # Parquet holds the same rows as CSV.
    pq_tx = pd.read_parquet(synth["out"] / "transactions_train.parquet")
    assert (pq_tx["article_id"].to_numpy() == tx["article_id"].to_numpy()).all()
    assert np.allclose(pq_tx["price"].to_numpy(), tx["price"].to_numpy())


def test_ingest_reads_the_output_unchanged(synth):
    out = synth["out"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no near-miss conversion may be needed
        dataset = load_dataset(out / "articles.parquet", out / "transactions_train.parquet",
                               out / "customers.parquet")
    assert dataset.num_articles == 105_542
    assert dataset.num_customers == N_CUSTOMERS
    assert int(dataset.transactions["quantity"].sum()) == N_TRANSACTIONS


# --------------------------------------------------------------------------- catalogue
def test_article_attributes_follow_the_real_hierarchy_and_frequencies(real, synth):
    art, ref = synth["articles"], real["articles"]
    # Every hierarchy combination is a real one; a product has one hierarchy.
    combos = set(map(tuple, ref[list(HIERARCHY_COLUMNS)].drop_duplicates().to_numpy()))
    assert set(map(tuple, art[list(HIERARCHY_COLUMNS)].drop_duplicates().to_numpy())) <= combos
    assert (art.groupby("product_code")[list(HIERARCHY_COLUMNS)].nunique() == 1).all().all()
    # Frequencies: total variation distance to the real catalogue below 0.03.
    for col in ("index_group_name", "product_group_name", "garment_group_name",
                "perceived_colour_master_name", "graphical_appearance_name"):
        assert _tvd(art[col], ref[col]) < 0.03, col
    # Product codes group colour variants: about 2.2 articles per product, as at H&M.
    per_product = art.groupby("product_code").size()
    real_per_product = ref.groupby("product_code").size()
    assert per_product.mean() == pytest.approx(real_per_product.mean(), rel=0.05)
    assert (art["article_id"].str[1:7].astype(int) == art["product_code"]).all()


# --------------------------------------------------------------------------- degrees
def test_customer_activity_has_the_real_heavy_tail(real, synth):
    ours = synth["transactions"].groupby("customer_id").size()
    theirs = real["transactions"].groupby("customer_id").size()
    # Quantile ratios to the mean (shape, not scale): within 15% (median, p90), 25% (p99).
    for q, tol in ((0.5, 0.15), (0.9, 0.15), (0.99, 0.25)):
        assert ours.quantile(q) / ours.mean() == pytest.approx(
            theirs.quantile(q) / theirs.mean(), rel=tol), q
    assert ours.mean() == pytest.approx(theirs.mean(), rel=0.05)
    # 0.7% of customers never buy, as in the full H&M table.
    assert 0.0 < 1 - len(ours) / N_CUSTOMERS < 0.02


def test_article_popularity_has_the_real_shape(real, synth):
    theirs = real["transactions"]
    ours = _prefix(synth["transactions"], len(theirs))
    stats = []
    for tx in (ours, theirs):
        per_article = tx.groupby("article_id").size().sort_values(ascending=False)
        top = per_article.iloc[: len(per_article) // 100].sum() / len(tx)
        stats.append((len(per_article) / len(tx), top, per_article.quantile(0.99)))
    (distinct, top, q99), (real_distinct, real_top, real_q99) = stats
    assert distinct == pytest.approx(real_distinct, rel=0.15)  # distinct articles per row
    assert top == pytest.approx(real_top, rel=0.3)  # share of rows in the top 1% of articles
    assert q99 == pytest.approx(real_q99, rel=0.35)


def test_repurchase_variants_and_multi_unit_rows_match(real, synth):
    ours, theirs = synth["transactions"], real["transactions"]
    assert _repurchase_share(ours) == pytest.approx(_repurchase_share(theirs), abs=0.012)
    assert ours.duplicated().mean() == pytest.approx(theirs.duplicated().mean(), abs=0.02)
    visits = ours.drop_duplicates().groupby(["customer_id", "t_dat"]).size()
    real_visits = theirs.drop_duplicates().groupby(["customer_id", "t_dat"]).size()
    assert visits.mean() == pytest.approx(real_visits.mean(), rel=0.15)
    # A visit has one channel; two visits on one day may differ (1.2% of real customer-days).
    mixed = ours.groupby(["customer_id", "t_dat"])["sales_channel_id"].nunique() > 1
    assert mixed.mean() < 0.03
    assert (ours["sales_channel_id"] == 2).mean() == pytest.approx(
        (theirs["sales_channel_id"] == 2).mean(), abs=0.08)


def test_purchases_follow_the_real_attribute_shares_and_weekly_rhythm(real, synth):
    ours = synth["transactions"].merge(synth["articles"], on="article_id")
    theirs = real["transactions"].merge(real["articles"], on="article_id")
    assert _tvd(ours["index_group_name"], theirs["index_group_name"]) < 0.05
    assert _tvd(ours["product_group_name"], theirs["product_group_name"]) < 0.08
    weekday = pd.to_datetime(synth["transactions"]["t_dat"]).dt.day_of_week
    real_weekday = pd.to_datetime(real["transactions"]["t_dat"]).dt.day_of_week
    assert _tvd(weekday, real_weekday) < 0.03


def test_customer_attributes_follow_the_real_distributions(real, synth):
    ours, theirs = synth["customers"], real["customers"]
    for col in ("club_member_status", "fashion_news_frequency", "FN", "Active"):
        assert _tvd(ours[col], theirs[col]) < 0.05, col
    # Bimodal age: young peak and a second one past 45, with the real shares.
    for lo, hi in ((16, 30), (30, 45), (45, 100)):
        share = ours["age"].between(lo, hi - 1).mean()
        assert share == pytest.approx(theirs["age"].between(lo, hi - 1).mean(), abs=0.05)
    hub = ours["postal_code"].value_counts().iloc[0] / len(ours)
    assert hub == pytest.approx(theirs["postal_code"].value_counts().iloc[0] / len(theirs),
                                abs=0.03)


def test_ground_truth_tastes_explain_purchases(synth):
    """A customer's own archetype gives her purchases a higher likelihood than another's."""
    truth = synth["truth"].set_index("customer_id")
    archetypes = pd.read_parquet(synth["out"] / "ground_truth_archetypes.parquet")
    bought = synth["transactions"].merge(synth["articles"], on="article_id")
    active = bought["customer_id"].value_counts()
    active = active.index[active >= 20]
    loglik = 0.0
    for attribute in archetypes["attribute"].unique():
        weights = archetypes[archetypes["attribute"] == attribute].pivot(
            index="archetype", columns="value", values="weight")
        counts = pd.crosstab(bought["customer_id"], bought[attribute].astype(str))
        counts = counts.reindex(index=active, columns=weights.columns, fill_value=0)
        loglik = loglik + counts.to_numpy() @ np.log(weights.to_numpy().T + 1e-12)
    own = truth.loc[active, "primary_archetype"].to_numpy()
    rank = (loglik > loglik[np.arange(len(own)), own][:, None]).sum(axis=1)
    # The own archetype ranks in the top quarter for most customers (chance: a quarter).
    top_quarter = (rank < archetypes["archetype"].nunique() // 4).mean()
    assert top_quarter > 0.6


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_tables_other_seed_other_tables(tmp_path):
    frames = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate(SynthParams(customers=300, articles=2000, transactions=7000, seed=seed),
                 tmp_path / name)
        frames.append({t: pd.read_parquet(tmp_path / name / f"{t}.parquet")
                       for t in ("articles", "customers", "transactions_train",
                                 "ground_truth")})
    for table in frames[0]:
        pd.testing.assert_frame_equal(frames[0][table], frames[1][table])
    assert not frames[0]["transactions_train"].equals(frames[2]["transactions_train"])


def test_shipped_statistics_are_what_the_real_tables_give(real):
    paths = real["paths"]
    fresh = derive_statistics(paths.articles, paths.transactions, paths.customers)
    assert fresh == load_statistics()


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, message", [
    (dict(customers=0), r"synth: customers must be a positive integer \(got 0\)"),
    (dict(articles=0), r"synth: articles must be a positive integer \(got 0\)"),
    (dict(customers=-5), r"synth: customers must be a positive integer \(got -5\)"),
    (dict(transactions=-1), r"synth: transactions must be a non-negative integer \(got -1\)"),
    (dict(start="2020-01-02", end="2020-01-01"),
     r"synth: start must not be after end \(got start=2020-01-02, end=2020-01-01\)"),
    (dict(start="not a date"), r"synth: start and end must be ISO dates \(got start='not a"),
    (dict(customers=10, transactions=10_000),
     r"synth: transactions exceed what 10 customers can make over 734 days: at most 3,677 "
     r"\(.*\) \(got 10,000\)"),
])
def test_impossible_parameters_are_refused_before_any_work(kwargs, message):
    base = dict(customers=100, articles=100, transactions=1000)
    with pytest.raises(ConfigError, match=message):
        SynthParams(**{**base, **kwargs})


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"synth: format must be one of parquet, csv, both "
                                          r"\(got 'xlsx'\)"):
        generate(SynthParams(customers=10, articles=10, transactions=10), tmp_path,
                 formats="xlsx")
    assert not any(tmp_path.iterdir())
