"""Ingest on the bundled real H&M sample, and every kind of bad input written from its rows."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fashiongraph.data.dataset import TRANSACTION_DTYPES, Dataset
from fashiongraph.data.ingest import (
    load_dataset,
    read_articles,
    read_customers,
    read_transactions,
)
from fashiongraph.data.sample import lastweek_paths, sample_paths
from fashiongraph.errors import ConfigError, DataError, DataFixWarning

# The project's shared real data sits next to the checkout (../shared); worktrees live deeper.
SHARED = next((p for p in (Path(__file__).resolve().parents[3] / "shared" / "data" / "real",
                           Path("/work/shared/data/real")) if p.is_dir()),
              Path("/nonexistent"))


@pytest.fixture(scope="module")
def paths():
    return sample_paths()


@pytest.fixture(scope="module")
def raw(paths):
    """The first 300 real rows of the sample (and their customers and articles), as strings."""
    tx = pd.read_csv(paths.transactions, dtype=str, nrows=300)
    customers = pd.read_csv(paths.customers, dtype=str)
    customers = customers[customers["customer_id"].isin(tx["customer_id"])]
    articles = pd.read_parquet(paths.articles)
    articles = articles[articles["article_id"].isin(tx["article_id"])]
    return tx, customers.reset_index(drop=True), articles.reset_index(drop=True)


@pytest.fixture
def small(tmp_path, raw):
    """Write the small real tables to tmp_path; returns (articles, transactions, customers)."""
    tx, customers, articles = raw
    a, t, c = tmp_path / "articles.parquet", tmp_path / "transactions.csv", tmp_path / "c.csv"
    articles.to_parquet(a, index=False)
    tx.to_csv(t, index=False)
    customers.to_csv(c, index=False)
    return a, t, c


def quiet_load(*args, **kwargs) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataFixWarning)
        return load_dataset(*args, **kwargs)


# ------------------------------------------------------------------------------ real samples
def test_bundled_sample_counts(paths):
    ds = load_dataset(paths.articles, paths.transactions, paths.customers)
    tx = ds.transactions
    assert ds.num_customers == 1364
    assert ds.num_articles == 105_542
    assert int(tx["quantity"].sum()) == 31_662
    assert len(tx) == 31_662 - 2_894
    assert dict(tx.dtypes.astype(str)) == TRANSACTION_DTYPES
    assert tx["t_dat"].is_monotonic_increasing
    assert str(ds.first_date.date()) == "2018-09-20" and str(ds.last_date.date()) == "2020-09-22"
    assert tx["article_idx"].nunique() == 17_033
    assert any("2,894 exact duplicate rows" in n for n in ds.notes)
    # the customer table's order defines customer_idx; every customer has transactions
    raw_ids = pd.read_csv(paths.customers, dtype=str)["customer_id"]
    assert ds.customers["customer_id"].tolist() == raw_ids.tolist()
    assert tx["customer_idx"].nunique() == 1364
    # 12 null ages -> no age band; club status nulls stay null
    assert ds.customers["age_band"].isna().sum() == 12
    assert "customers_sample.csv: 12 customers without age: no age band" in ds.notes
    assert ds.customers["club_member_status"].isna().sum() == 8
    bands = set(ds.customers["age_band"].dropna())
    assert bands <= {"<20", "20-24", "25-29", "30-39", "40-49", "50-59", "60+"}


def test_bundled_sample_rows_match_the_file(paths):
    """Each canonical transaction points at the ids of the raw row it came from."""
    ds = load_dataset(paths.articles, paths.transactions, paths.customers)
    raw = pd.read_csv(paths.transactions, dtype=str)
    tx = ds.transactions
    rebuilt = pd.DataFrame({
        "t_dat": tx["t_dat"].dt.strftime("%Y-%m-%d"),
        "customer_id": ds.customers["customer_id"].to_numpy()[tx["customer_idx"]],
        "article_id": ds.articles["article_id"].to_numpy()[tx["article_idx"]],
    }).loc[lambda f: f.index.repeat(tx["quantity"])]
    key = ["t_dat", "customer_id", "article_id"]
    left = rebuilt.sort_values(key).reset_index(drop=True)
    right = raw[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)


def test_bundled_lastweek_pads_ids_and_counts(paths):
    lw = lastweek_paths()
    with pytest.warns(DataFixWarning, match=r"120,336 rows with 14,146 distinct article ids "
                                            r"shorter than 10 characters .* were zero-padded"):
        ds = load_dataset(lw.articles, lw.transactions)
    assert int(ds.transactions["quantity"].sum()) == 120_336
    assert ds.num_customers == 34_520
    assert not any("excluded" in n for n in ds.notes)  # 100% of padded ids are known
    assert any("no customers table given; 34,520 customers" in n for n in ds.notes)
    assert ds.customers["age_band"].isna().all()
    assert set(ds.transactions["sales_channel_id"].unique()) == {1, 2}


@pytest.mark.skipif(not (SHARED / "hm_ragrec").is_dir(), reason="shared/data/real not present")
def test_ragrec_without_sales_channel_and_int_ids():
    r = SHARED / "hm_ragrec"
    with pytest.warns(DataFixWarning, match=r"column 'article_id' was stored as numbers"):
        ds = load_dataset(r / "articles_sample.parquet", r / "transactions_sample.parquet",
                          r / "customers_sample.parquet")
    assert int(ds.transactions["quantity"].sum()) == 5000
    assert ds.num_customers == 4946
    assert (ds.transactions["sales_channel_id"] == 0).all()
    assert any("optional column 'sales_channel_id' is missing" in n for n in ds.notes)
    assert ds.articles["article_id"].str.len().eq(10).all()
    assert ds.transactions["article_idx"].nunique() == 606


def test_round_trip_save_load(tmp_path, paths):
    ds = load_dataset(paths.articles, paths.transactions, paths.customers)
    back = Dataset.load(ds.save(tmp_path / "ds"))
    pd.testing.assert_frame_equal(back.transactions, ds.transactions)
    pd.testing.assert_frame_equal(back.customers, ds.customers, check_dtype=False)
    assert back.articles["article_id"].tolist() == ds.articles["article_id"].tolist()
    assert back.notes == ds.notes
    m = back.purchase_matrix()
    assert m.shape == (1364, 105_542) and m.sum() == 31_662


def test_frames_from_readers_are_accepted(paths):
    tx = read_transactions(paths.transactions)
    assert len(tx) == 31_662
    assert tx["article_id"].astype(str).str.len().eq(10).all()
    ds = load_dataset(read_articles(paths.articles), tx, read_customers(paths.customers))
    assert int(ds.transactions["quantity"].sum()) == 31_662


# ------------------------------------------------------------------------------ bad input
def test_ids_that_lost_their_leading_zero_are_fixed(tmp_path, raw, small):
    a, _, c = small
    tx = raw[0].copy()
    tx["article_id"] = tx["article_id"].astype(int)  # as a spreadsheet would save them
    t = tmp_path / "tx_int_ids.csv"
    tx.to_csv(t, index=False)
    n_short = int((tx["article_id"].astype(str).str.len() < 10).sum())
    with pytest.warns(DataFixWarning, match=rf"tx_int_ids.csv: {n_short} rows with \d+ distinct "
                                            r"article ids shorter than 10 characters \(a lost "
                                            r"leading zero\) were zero-padded, e.g. '\d{9}' -> "
                                            r"'0\d{9}'"):
        ds = load_dataset(a, t, c)
    assert int(ds.transactions["quantity"].sum()) == 300
    assert not any("excluded" in n for n in ds.notes)
    assert any("zero-padded" in n for n in ds.notes)


def test_numeric_looking_customer_ids_stay_strings(tmp_path, raw, small):
    a, _, _ = small
    tx = raw[0].copy()
    codes, _ = pd.factorize(tx["customer_id"])
    tx["customer_id"] = [f"{c:06d}" for c in codes]  # '000001' must not become 1
    t = tmp_path / "tx.csv"
    tx.to_csv(t, index=False)
    ds = quiet_load(a, t)
    assert ds.customers["customer_id"].str.len().eq(6).all()
    assert "000000" in set(ds.customers["customer_id"])


def test_extra_index_column_is_ignored(tmp_path, raw, small):
    a, _, c = small
    t = tmp_path / "tx_indexed.csv"
    raw[0].to_csv(t, index=True)  # writes a nameless first column: 'Unnamed: 0' / ''
    ds = quiet_load(a, t, c)
    assert any(n.startswith("tx_indexed.csv: ignored index column(s) ''") for n in ds.notes)
    assert int(ds.transactions["quantity"].sum()) == 300

    p = tmp_path / "tx_indexed.parquet"
    raw[0].reset_index().to_parquet(p)  # a column named 'index'
    ds = quiet_load(a, p, c)
    assert any("tx_indexed.parquet: ignored index column(s) 'index' (written by pandas to_csv)"
               in n for n in ds.notes)
    c2 = tmp_path / "cust_unnamed.csv"
    raw[1].rename_axis(None).to_csv(c2, index=True, index_label="Unnamed: 0")
    ds = quiet_load(a, p, c2)
    assert any("cust_unnamed.csv: ignored index column(s) 'Unnamed: 0'" in n for n in ds.notes)


def test_missing_required_column_is_an_error(tmp_path, raw, small):
    a, _, c = small
    t = tmp_path / "tx_no_price.csv"
    raw[0].drop(columns="price").to_csv(t, index=False)
    with pytest.raises(DataError, match=r"tx_no_price.csv: missing required column 'price' "
                                        r"\(got columns 't_dat', 'customer_id', 'article_id', "
                                        r"'sales_channel_id'\)"):
        load_dataset(a, t, c)
    art = tmp_path / "articles_no_id.parquet"
    raw[2].drop(columns="article_id").to_parquet(art)
    with pytest.raises(DataError, match=r"articles_no_id.parquet: missing required column "
                                        r"'article_id'"):
        read_articles(art)
    cust = tmp_path / "cust_no_id.csv"
    raw[1].drop(columns="customer_id").to_csv(cust, index=False)
    with pytest.raises(DataError, match=r"cust_no_id.csv: missing required column 'customer_id'"):
        read_customers(cust)


def test_missing_optional_columns_are_said(tmp_path, raw, small):
    a, _, _ = small
    t = tmp_path / "tx_no_channel.csv"
    raw[0].drop(columns="sales_channel_id").to_csv(t, index=False)
    c = tmp_path / "cust_no_age.csv"
    raw[1].drop(columns="age").to_csv(c, index=False)
    ds = quiet_load(a, t, c)
    assert "tx_no_channel.csv: optional column 'sales_channel_id' is missing: sales_channel_id " \
           "set to 0 for every row" in ds.notes
    assert "cust_no_age.csv: optional column 'age' is missing: no customer gets an age " \
           "band" in ds.notes
    assert (ds.transactions["sales_channel_id"] == 0).all()
    assert ds.customers["age_band"].isna().all()
    art = tmp_path / "articles_few.parquet"
    raw[2][["article_id", "prod_name", "product_type_no"]].to_parquet(art)
    frame = read_articles(art)
    assert any("optional column(s) missing, no graph nodes for them: product_code" in n
               for n in frame.attrs["fashiongraph_notes"])


def test_unparsable_date_names_file_column_row_value(tmp_path, raw, small):
    a, _, c = small
    tx = raw[0].copy()
    tx.loc[16, "t_dat"] = "2020-13-01"
    tx.loc[40, "t_dat"] = "yesterday"
    t = tmp_path / "tx_bad_date.csv"
    tx.to_csv(t, index=False)
    with pytest.raises(DataError, match=r"tx_bad_date.csv: column 't_dat' row 17: cannot parse "
                                        r"date, expected YYYY-MM-DD \(got '2020-13-01'\); 2 rows "
                                        r"like this"):
        load_dataset(a, t, c)


def test_unparsable_price_names_file_column_row_value(tmp_path, raw, small):
    a, _, c = small
    tx = raw[0].copy()
    tx.loc[4, "price"] = "0,0254"
    t = tmp_path / "tx_bad_price.csv"
    tx.to_csv(t, index=False)
    with pytest.raises(DataError, match=r"tx_bad_price.csv: column 'price' row 5: cannot parse "
                                        r"price as a number \(got '0,0254'\)$"):
        load_dataset(a, t, c)
    tx = raw[0].copy()
    tx.loc[9, "price"] = None
    tx.to_csv(t, index=False)
    with pytest.raises(DataError, match=r"column 'price' row 10: cannot parse price as a number "
                                        r"\(got None\)"):
        read_transactions(t)


def test_missing_id_value_is_an_error(tmp_path, raw):
    tx = raw[0].copy()
    tx.loc[7, "customer_id"] = None
    t = tmp_path / "tx_no_customer.csv"
    tx.to_csv(t, index=False)
    with pytest.raises(DataError, match=r"tx_no_customer.csv: column 'customer_id' row 8: "
                                        r"missing id \(got None\)"):
        read_transactions(t)


def test_duplicate_rows_become_quantity(tmp_path, raw, small):
    a, _, c = small
    tx = raw[0].drop_duplicates()
    tx = pd.concat([tx, tx.iloc[[3, 3, 5]]], ignore_index=True)
    t = tmp_path / "tx_dups.csv"
    tx.to_csv(t, index=False)
    ds = quiet_load(a, t, c)
    n = len(tx)
    assert (f"tx_dups.csv: 3 exact duplicate rows (one row per unit bought) were kept as "
            f"quantity: {n} rows -> {n - 3} transactions") in ds.notes
    assert int(ds.transactions["quantity"].sum()) == n
    assert sorted(ds.transactions["quantity"].value_counts().items()) == [(1, n - 5), (2, 1),
                                                                          (3, 1)]


def test_customers_absent_from_customers_table_are_kept(tmp_path, raw, small):
    a, t, _ = small
    customers = raw[1]
    c = tmp_path / "cust_partial.csv"
    kept = customers.iloc[: len(customers) // 2]
    kept.to_csv(c, index=False)
    absent = set(customers["customer_id"]) - set(kept["customer_id"])
    rows = int(raw[0]["customer_id"].isin(absent).sum())
    ds = quiet_load(a, t, c)
    assert any(n.startswith(f"transactions.csv: {rows:,} transactions of {len(absent):,} "
                            "customers absent from the customers table were kept; those "
                            "customers were added with empty attributes, e.g. '")
               for n in ds.notes)
    assert int(ds.transactions["quantity"].sum()) == 300
    assert ds.num_customers == len(customers)
    assert ds.customers["customer_id"].iloc[: len(kept)].tolist() == kept["customer_id"].tolist()
    added = ds.customers.iloc[len(kept):]
    assert added["age"].isna().all() and added["age_band"].isna().all()


def test_unknown_articles_are_excluded_or_an_error(tmp_path, raw, small):
    _, t, c = small
    articles = raw[2]
    dropped = articles["article_id"].iloc[:3]
    a = tmp_path / "articles_partial.parquet"
    articles[~articles["article_id"].isin(dropped)].to_parquet(a, index=False)
    bad = raw[0]["article_id"].isin(dropped).to_numpy()
    first = int(np.flatnonzero(bad)[0])
    example = (rf"e.g. row {first + 1}: article_id '{raw[0]['article_id'].iloc[first]}', "
               rf"customer_id '{raw[0]['customer_id'].iloc[first]}', "
               rf"t_dat {raw[0]['t_dat'].iloc[first]}")
    head = (rf"transactions.csv: {int(bad.sum())} of 300 transactions \(3 distinct articles\) "
            rf"have an article_id not in articles_partial.parquet, ")
    with pytest.raises(DataError, match=head + example + r" \(on_unknown_article='error'\)"):
        load_dataset(a, t, c, on_unknown_article="error")
    ds = load_dataset(a, t, c)
    assert any(n == head.replace("\\", "") + example + "; excluded" for n in ds.notes)
    assert int(ds.transactions["quantity"].sum()) == 300 - int(bad.sum())
    with pytest.raises(ConfigError, match=r"on_unknown_article must be 'exclude' or 'error' "
                                          r"\(got 'drop'\)"):
        load_dataset(a, t, c, on_unknown_article="drop")


@pytest.mark.parametrize("name, content, message", [
    ("garbage.csv", bytes(range(256)) * 8,
     r"garbage.csv: not a table: binary content that is neither parquet nor CSV \(got bytes "),
    ("empty.csv", b"", r"empty.csv: empty file, not a table \(got 0 bytes\)"),
    ("blank.csv", b"\n\n  \n", r"blank.csv: not a table: only whitespace \(got 5 bytes\)"),
    ("tx.json", b'[{"t_dat": "2020-09-16", "customer_id": "a"}]',
     r"tx.json: not a table: looks like JSON, expected CSV or parquet \(got '\[\{\"t_dat\""),
    ("tx.parquet", b"PAR1 this is not really parquet",
     r"tx.parquet: broken parquet file, not a table \(got "),
    ("latin1.csv", "t_dat,customer_id\n2020-09-16,Müller\n".encode("latin-1") + b"x" * 10,
     r"latin1.csv: not a table: text is not UTF-8 at byte 30 \(got b'\\xfclle'\)"),
])
def test_a_file_that_is_not_a_table_is_an_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_transactions(path)


def test_missing_file_and_ragged_csv(tmp_path):
    with pytest.raises(DataError, match=r"nope.csv: file not found"):
        read_articles(tmp_path / "nope.csv")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("t_dat,customer_id,article_id,price\n2020-09-16,a,0108775015\n")
    with pytest.raises(DataError, match=r"ragged.csv: not a readable CSV table \(got CSV parse "
                                        r"error: Expected 4 columns, got 3"):
        read_transactions(ragged)
    header_only = tmp_path / "header.csv"
    header_only.write_text("t_dat,customer_id,article_id,price\n")
    with pytest.raises(DataError, match=r"header.csv: the table has a header but no rows "
                                        r"\(got 0 rows\)"):
        read_transactions(header_only)


def test_wrong_suffix_is_read_by_content(tmp_path, raw, small):
    a, _, c = small
    csv_as_parquet = tmp_path / "tx_really_csv.parquet"
    raw[0].to_csv(csv_as_parquet, index=False)
    with pytest.warns(DataFixWarning, match=r"tx_really_csv.parquet: content is CSV text despite "
                                            r"the suffix '.parquet'; read as CSV"):
        ds = load_dataset(a, csv_as_parquet, c)
    assert int(ds.transactions["quantity"].sum()) == 300
    parquet_as_csv = tmp_path / "articles_really_parquet.csv"
    raw[2].to_parquet(parquet_as_csv, index=False)
    with pytest.warns(DataFixWarning, match=r"articles_really_parquet.csv: content is parquet "
                                            r"despite the suffix '.csv'; read as parquet"):
        frame = read_articles(parquet_as_csv)
    assert frame["article_id"].tolist() == raw[2]["article_id"].tolist()


def test_semicolon_csv_and_gzip(tmp_path, raw, small):
    a, _, c = small
    t = tmp_path / "tx_semicolon.csv"
    raw[0].to_csv(t, index=False, sep=";")
    with pytest.warns(DataFixWarning, match=r"tx_semicolon.csv: CSV delimiter is ';', not ','"):
        ds = load_dataset(a, t, c)
    assert int(ds.transactions["quantity"].sum()) == 300
    gz = tmp_path / "tx.csv.gz"
    raw[0].to_csv(gz, index=False, compression="gzip")
    assert int(quiet_load(a, gz, c).transactions["quantity"].sum()) == 300


def test_csv_and_parquet_inputs_give_the_same_dataset(tmp_path, raw, small):
    a, t, c = small
    p = tmp_path / "tx.parquet"
    read = pd.read_csv(t, dtype={"customer_id": str, "article_id": str})
    read.to_parquet(p, index=False)
    one, two = quiet_load(a, t, c), quiet_load(a, p, c)
    pd.testing.assert_frame_equal(one.transactions, two.transactions)
    pd.testing.assert_frame_equal(one.customers, two.customers)


def test_duplicate_articles_and_customers_keep_the_first(tmp_path, raw):
    art = tmp_path / "articles_dup.parquet"
    pd.concat([raw[2], raw[2].iloc[[1]]], ignore_index=True).to_parquet(art)
    n = len(raw[2])
    with pytest.warns(DataFixWarning, match=rf"articles_dup.parquet: 1 articles repeat an earlier "
                                            rf"article_id; the first row of each is kept, e.g. "
                                            rf"row {n + 1} \('{raw[2]['article_id'].iloc[1]}'\)"):
        frame = read_articles(art)
    assert len(frame) == n


def test_bad_age_is_an_error(tmp_path, raw):
    customers = raw[1].copy()
    customers.loc[2, "age"] = "forty"
    c = tmp_path / "cust_bad_age.csv"
    customers.to_csv(c, index=False)
    with pytest.raises(DataError, match=r"cust_bad_age.csv: column 'age' row 3: cannot parse as "
                                        r"a number \(got 'forty'\)"):
        read_customers(c)


def test_load_dataset_rejects_other_inputs(small):
    a, t, _ = small
    with pytest.raises(DataError, match=r"transactions must be a file path or a frame from "
                                        r"read_transactions \(got int\)"):
        load_dataset(a, 42)


def test_duplicate_merge_equals_the_obvious_groupby(paths):
    """The packed-key sort merge against a plain multi-column groupby, on the real sample."""
    from fashiongraph.data.ingest import _merge_duplicates

    tx = read_transactions(paths.transactions)
    cols = {
        "t_dat": tx["t_dat"].to_numpy(),
        "customer_idx": tx["customer_id"].cat.codes.to_numpy().astype(np.int32),
        "article_idx": tx["article_id"].cat.codes.to_numpy().astype(np.int32),
        "price": tx["price"].to_numpy(),
        "sales_channel_id": tx["sales_channel_id"].to_numpy(),
        "quantity": tx["quantity"].to_numpy(),
    }
    fast = _merge_duplicates(**dict(cols))
    keys = ["t_dat", "customer_idx", "article_idx", "price", "sales_channel_id"]
    slow = (pd.DataFrame(cols).groupby(keys, sort=False)["quantity"].sum().reset_index()
            .sort_values("t_dat", kind="stable").reset_index(drop=True)
            .astype(TRANSACTION_DTYPES))
    pd.testing.assert_frame_equal(fast, slow)
    assert len(fast) == 31_662 - 2_894
