"""The real H&M statistics the synthetic generator draws from, and how they are derived.

``derive_statistics`` reads the real tables (the full articles table and the by-customer sample
with complete histories, both bundled under ``data/hm_sample/``) and condenses them into one
small JSON document. The document ships with the package as
``fashiongraph/resources/hm_statistics.json``, so a fresh clone or an installed wheel can
generate data without the real tables. Regenerate it with::

    fashiongraph synth --derive-statistics data/hm_sample

What is kept (all counts are from the real tables):

- ``articles.hierarchy``: every distinct combination of the product hierarchy columns
  (product type, product group, department, index, index group, section, garment group) with
  the number of products (``product_code``) that have it;
- ``articles.colour``: every distinct combination of the colour columns (graphical appearance,
  colour group, perceived colour value and master) with its number of articles;
- ``articles.hierarchy.variants``: how many articles (colour variants) the products of each
  hierarchy combination have, as ``[articles, products]`` pairs;
- ``articles.names`` / ``articles.descriptions``: the most common product names and
  descriptions of each product type;
- ``articles.season``: per product type, the circular mean day of the year of its sales and the
  (bias-corrected) length of the mean resultant, i.e. how seasonal the type is;
- ``articles.price``: per product type, the median and spread of the log undiscounted price in
  SEK (H&M prices are SEK / 590), and the price points (``x.99``) seen;
- ``purchase_share``: share of purchases of each index group, product group and perceived
  colour master (values never bought in the sample get a half count);
- ``customers``: the age histogram, the joint distribution of ``FN``, ``Active``,
  ``club_member_status`` and ``fashion_news_frequency``, the share of the largest postal code;
- ``activity``: rows per customer (the empirical distribution), visits per line, units per
  line (exact-duplicate rows), online share per customer, repurchase and colour-variant shares;
- ``calendar``: the day-of-week and month-of-year rhythm of sales.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from fashiongraph.errors import DataError

log = logging.getLogger(__name__)

STATISTICS_RESOURCE = "hm_statistics.json"
"""File name of the derived statistics under ``fashiongraph/resources``."""

HIERARCHY_COLUMNS = (
    "product_type_no", "product_type_name", "product_group_name", "department_no",
    "department_name", "index_code", "index_name", "index_group_no", "index_group_name",
    "section_no", "section_name", "garment_group_no", "garment_group_name",
)
COLOUR_COLUMNS = (
    "graphical_appearance_no", "graphical_appearance_name", "colour_group_code",
    "colour_group_name", "perceived_colour_value_id", "perceived_colour_value_name",
    "perceived_colour_master_id", "perceived_colour_master_name",
)
STATUS_COLUMNS = ("FN", "Active", "club_member_status", "fashion_news_frequency")
SEK_PER_PRICE_UNIT = 590.0
"""H&M's published prices are SEK divided by about 590 (19.99 SEK -> 0.03388...)."""

_NAMES_PER_TYPE = 25
_DESCRIPTIONS_PER_TYPE = 3
_MIN_SEASON_ROWS = 40


def _records(frame: pd.DataFrame) -> dict[str, list]:
    """Column-wise lists of plain Python values (JSON-ready, NaN as None)."""
    out = {}
    for col in frame.columns:
        values = frame[col].tolist()
        out[col] = [None if isinstance(v, float) and v != v else v for v in values]
    return out


def derive_statistics(articles_path: str | Path, transactions_path: str | Path,
                      customers_path: str | Path) -> dict:
    """Condense the real H&M tables into the statistics the generator draws from.

    Parameters
    ----------
    articles_path : path
        The full H&M articles table (parquet or CSV, 105,542 rows).
    transactions_path : path
        Transactions of a by-customer sample with complete histories (CSV or parquet).
    customers_path : path
        The customers of that sample.

    Returns
    -------
    dict
        JSON-ready statistics (see the module docstring for the keys).
    """
    def read(path: Path) -> pd.DataFrame:
        path = Path(path)
        if not path.exists():
            raise DataError(f"derive statistics: input table missing (got {str(path)!r})")
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype={"article_id": str, "customer_id": str,
                                        "postal_code": str})

    articles = read(articles_path)
    articles["article_id"] = articles["article_id"].astype(str).str.zfill(10)
    tx = read(transactions_path)
    tx["article_id"] = tx["article_id"].astype(str).str.zfill(10)
    customers = read(customers_path)
    stats: dict = {"source": {
        "articles": Path(articles_path).name, "transactions": Path(transactions_path).name,
        "customers": Path(customers_path).name, "num_articles": len(articles),
        "num_transactions": len(tx), "num_customers": len(customers),
    }}

    # Catalogue: the hierarchy per product, the colours per article, variants per product.
    products = articles.drop_duplicates("product_code")
    hierarchy = products.groupby(list(HIERARCHY_COLUMNS), dropna=False).size()
    hierarchy = hierarchy.rename("weight").reset_index()
    colour = articles.groupby(list(COLOUR_COLUMNS), dropna=False).size()
    colour = colour.rename("weight").reset_index()
    # Colour variants per product, per hierarchy combination: [[articles, products], ...].
    n_variants = articles.groupby("product_code").size().rename("n_variants")
    with_n = products.join(n_variants, on="product_code")
    by_combo = with_n.groupby(list(HIERARCHY_COLUMNS), dropna=False)["n_variants"]
    by_combo = by_combo.apply(lambda v: [[int(k), int(c)]
                                         for k, c in v.value_counts().sort_index().items()])
    hierarchy = hierarchy.join(by_combo.rename("variants"), on=list(HIERARCHY_COLUMNS))
    names, descriptions = {}, {}
    for type_no, group in articles.groupby("product_type_no"):
        top = group["prod_name"].str.replace(r"\s*\(\d+\)$", "", regex=True).value_counts()
        names[str(type_no)] = top.index[:_NAMES_PER_TYPE].tolist()
        desc = group["detail_desc"].dropna().value_counts()
        descriptions[str(type_no)] = desc.index[:_DESCRIPTIONS_PER_TYPE].tolist()

    # Seasonality and price of each product type, from the sample's sales.
    sold = tx.merge(articles, on="article_id", how="inner")
    doy = pd.to_datetime(sold["t_dat"]).dt.day_of_year.to_numpy()
    sold["angle"] = 2 * np.pi * (doy - 1) / 365.25
    season = {}
    for type_no, group in sold.groupby("product_type_no"):
        n = len(group)
        if n < _MIN_SEASON_ROWS:
            continue
        c, s = np.cos(group["angle"]).mean(), np.sin(group["angle"]).mean()
        resultant = float(np.sqrt(max(c * c + s * s - 1.0 / n, 0.0)))
        peak_day = float((np.arctan2(s, c) % (2 * np.pi)) * 365.25 / (2 * np.pi))
        season[str(type_no)] = [round(peak_day, 1), round(resultant, 4)]
    undiscounted = sold.groupby(["article_id", "product_type_no", "product_group_name"])
    undiscounted = undiscounted["price"].max().reset_index()
    undiscounted["sek"] = undiscounted["price"] * SEK_PER_PRICE_UNIT
    price = {"by_type": {}, "by_group": {}}
    for key, col in (("by_type", "product_type_no"), ("by_group", "product_group_name")):
        for value, group in undiscounted.groupby(col):
            logp = np.log(group["sek"].clip(lower=1.0))
            price[key][str(value)] = [round(float(logp.median()), 4),
                                      round(float(max(logp.std(ddof=0), 0.15)), 4), len(group)]
    points = (tx["price"] * SEK_PER_PRICE_UNIT).round(2)
    points = points[(points % 1).round(2) == 0.99].value_counts()
    price["points"] = sorted(float(p) for p in points[points >= 5].index)

    # What customers buy: purchase shares of the attributes that tastes are defined on.
    purchase_share = {}
    for col in ("index_group_no", "product_group_name", "perceived_colour_master_id"):
        bought = sold[col].value_counts()
        held = articles[col].value_counts()
        # Values in the catalogue but never bought in the sample keep a small share.
        bought = bought.reindex(held.index).fillna(0.0) + 0.5
        purchase_share[col] = {str(k): round(float(v), 6)
                               for k, v in (bought / bought.sum()).items()}

    # Customers: age histogram, membership/newsletter status, postal-code concentration.
    ages = customers["age"].dropna().round().astype(int)
    age_hist = ages.value_counts().sort_index()
    status = customers.groupby(list(STATUS_COLUMNS), dropna=False).size()
    status = status.rename("weight").reset_index()
    postal = customers["postal_code"].value_counts()
    customers_stats = {
        "age": {"values": age_hist.index.tolist(), "weights": age_hist.tolist(),
                "missing_share": round(float(customers["age"].isna().mean()), 5)},
        "status": _records(status),
        "postal_hub_share": round(float(postal.iloc[0] / len(customers)), 5),
    }

    # Activity: rows per customer, visits, units per line, channel, repurchase, variants.
    dup = tx.groupby(list(tx.columns), dropna=False).size()
    units = dup.value_counts().sort_index()
    lines = tx.drop_duplicates()
    rows_per_customer = tx.groupby("customer_id").size().sort_values()
    visits = lines.groupby(["customer_id", "t_dat"]).size()
    visits_per_customer = visits.groupby(level=0).size()
    lines_per_customer = lines.groupby("customer_id").size()
    extra_lines = (lines_per_customer - 1).sum()
    visit_probability = float((visits_per_customer - 1).sum() / max(extra_lines, 1))
    online = (tx["sales_channel_id"] == 2).groupby(tx["customer_id"]).mean()
    online_hist = np.histogram(online, bins=10, range=(0.0, 1.0))[0]
    first_day = lines.groupby(["customer_id", "article_id"])["t_dat"].transform("min")
    repurchase = float((lines["t_dat"] > first_day).mean())
    pairs = lines.drop_duplicates(["customer_id", "article_id"]).merge(
        articles[["article_id", "product_code"]], on="article_id")
    per_product = pairs.groupby(["customer_id", "product_code"]).size()
    variant_share = float((per_product[per_product > 1] - 1).sum() / len(pairs))
    activity = {
        "rows_per_customer": rows_per_customer.tolist(),
        "visit_probability": round(visit_probability, 5),
        "units": {"values": units.index.tolist(), "weights": units.tolist()},
        "duplicate_row_share": round(float(tx.duplicated().mean()), 5),
        "online_share_histogram": online_hist.tolist(),
        "repurchase_share": round(repurchase, 5),
        "variant_share": round(variant_share, 5),
        "rows_per_visit": round(float(len(lines) / len(visits)), 4),
    }

    # Calendar rhythm: rows per weekday, rows per day of each calendar month.
    days = pd.to_datetime(tx["t_dat"])
    dow = days.dt.day_of_week.value_counts().sort_index()
    span = pd.date_range(days.min(), days.max(), freq="D")
    month_days = pd.Series(span.month).value_counts().sort_index()
    month_rows = days.dt.month.value_counts().sort_index()
    month = (month_rows / month_days).reindex(range(1, 13)).fillna(0.0)
    calendar = {"day_of_week": (dow / dow.sum()).round(5).tolist(),
                "month": (month / month.mean()).round(5).tolist()}

    stats.update({
        "articles": {
            "hierarchy": _records(hierarchy),
            "colour": _records(colour),
            "product_code_range": [int(articles["product_code"].min()),
                                   int(articles["product_code"].max())],
            "names": names, "descriptions": descriptions, "season": season, "price": price,
        },
        "purchase_share": purchase_share,
        "customers": customers_stats,
        "activity": activity,
        "calendar": calendar,
    })
    return stats


def write_statistics(stats: dict, path: str | Path | None = None) -> Path:
    """Write ``stats`` as compact JSON (default: the package's resource file)."""
    if path is None:
        path = Path(__file__).resolve().parents[1] / "resources" / STATISTICS_RESOURCE
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stats, separators=(",", ":"), ensure_ascii=False))
    log.info("wrote %s (%.0f KB)", path, path.stat().st_size / 1024)
    return path


def load_statistics(path: str | Path | None = None) -> dict:
    """The derived statistics (default: the copy shipped with the package)."""
    if path is not None:
        return json.loads(Path(path).read_text())
    text = resources.files("fashiongraph.resources").joinpath(STATISTICS_RESOURCE).read_text()
    return json.loads(text)
