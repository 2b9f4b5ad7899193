"""A realistic synthetic generator of H&M tables: articles, customers, transactions_train.

The output has exactly the H&M schema (column names and types, 10-character zero-padded
``article_id`` strings, 64-hex ``customer_id`` strings, ``t_dat`` dates, prices in H&M's scale
of SEK / 590, ``sales_channel_id`` 1 or 2), so every fashiongraph command reads it unchanged. The
structure is drawn from statistics of the real tables (``synth_stats``, shipped as
``fashiongraph/resources/hm_statistics.json``); ``docs/synth.md`` describes it at length.

The model, in the order it is generated:

1. **Catalogue.** Products draw a real product-hierarchy combination (product type, group,
   department, index, section, garment group) with its real frequency; each product has a real
   number of colour variants (articles), each a real colour combination. ``product_code`` grows
   with the launch date, and ``article_id`` is ``0`` + product code + 3-digit variant, as at
   H&M. Each product has a launch week (seasonal types launch ahead of their real sales peak),
   a log-normal base popularity shared by its variants (each variant adds its own factor), a
   decay time, a base price on the ``x.99`` SEK grid and a markdown date.
2. **Tastes (the ground truth).** ``K`` archetypes each weigh index groups, product groups and
   perceived colour masters (a Gamma factor per value, so archetypes are distinct, times one
   multiplier per value calibrated so that the mixture of all customers buys each index group,
   product group and colour in its real purchase share). Archetypes have an age centre.
   A customer mixes a primary archetype (chosen near her age) and a secondary one. Written to
   ``ground_truth.parquet`` (customers), ``ground_truth_archetypes.parquet`` and
   ``ground_truth_articles.parquet``.
3. **Customers.** Age from the real (bimodal) histogram, with the real share missing;
   ``FN``/``Active``/``club_member_status``/``fashion_news_frequency`` from their real joint
   distribution; postal codes with one hub code holding the real share (about 9%) and the rest
   spread over about one code per 3.9 customers.
4. **Activity.** Rows per customer follow the real (heavy-tailed) distribution scaled to the
   requested total, and add up to exactly ``transactions``; 0.7% of customers never buy (as in
   the full H&M table). Rows group into lines of several units (exact-duplicate rows, real
   frequencies) and lines into visits (real visit rate); visit days follow the real weekday and
   month rhythm; each visit has one channel, drawn from the customer's online share (real
   distribution, mostly all-online or all-in-store).
5. **Choice.** A line repeats an article the customer bought on an earlier day (repurchase), or
   takes another colour variant of a product she bought (variant), or is a fresh choice:
   archetype -> (index group, product group, colour) cell by taste times the cell's popularity
   that week -> article within the cell by its popularity that week (base popularity times an
   exponential decay since launch, zero before launch). Choices run in a numba kernel, per
   chunk of customers, with constant memory per row.

Deterministic for a seed: numpy generators come from one ``SeedSequence`` and the kernel's
random state is seeded per chunk, so the output does not depend on timing or on the chunk size
only through the seed of each chunk (the chunk size is fixed).

Known limits: customers have no acquisition or churn (each is active over the whole period);
prices do not differ between channels; an article's variants launch together; the calendar
rhythm has no single-day events (Black Friday); archetypes are not fitted to real customers,
they are built so that marginal purchase shares match, which is what the tests check.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fashiongraph.data.synth_stats import COLOUR_COLUMNS, HIERARCHY_COLUMNS, load_statistics
from fashiongraph.errors import ConfigError

log = logging.getLogger(__name__)

CUSTOMER_CHUNK = 131_072
"""Customers per generation chunk (fixed: part of what a seed means)."""

ROW_GROUP = 2_000_000
"""Rows per parquet row group / CSV batch when writing transactions."""

FORMATS = ("parquet", "csv", "both")

_NO_PURCHASE_SHARE = 0.0071
"""Customers without any transaction in the full H&M data: 9,699 of 1,371,980."""
_CUSTOMERS_PER_POSTAL_CODE = 3.9
"""Full H&M data: 352,899 postal codes for 1,371,980 customers."""
_LAUNCHED_BEFORE_START = 0.2
"""Share of products launched before the first day (the back catalogue on sale at the start)."""
_POPULARITY_SIGMA = 0.6
_VARIANT_SIGMA = 0.4
_DECAY_DAYS_MEDIAN = 20.0
_DECAY_SIGMA = 0.6
_DECAY_FLOOR = 0.0005
_MARKDOWN_FACTORS = (0.5, 0.6, 0.7)
_CALIBRATION_ROUNDS = 40


@dataclass(frozen=True, kw_only=True)
class SynthParams:
    """What to generate; checked when built, before any work.

    Attributes:
        customers: number of customers (>= 1).
        articles: number of articles (>= 1).
        transactions: number of transaction rows (>= 0; exact).
        seed: random seed; the same parameters and seed give the same files.
        start, end: first and last day of ``t_dat`` (ISO dates, start <= end).
        archetypes: number of latent taste archetypes (>= 1).
    """

    customers: int
    articles: int
    transactions: int
    seed: int = 0
    start: str = "2018-09-20"
    end: str = "2020-09-22"
    archetypes: int = 32

    def __post_init__(self) -> None:
        for name in ("customers", "articles", "archetypes"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"synth: {name} must be a positive integer (got {value!r})")
        if not isinstance(self.transactions, (int, np.integer)) or self.transactions < 0:
            raise ConfigError(
                f"synth: transactions must be a non-negative integer (got {self.transactions!r})")
        if not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ConfigError(f"synth: seed must be a non-negative integer (got {self.seed!r})")
        try:
            start, end = pd.Timestamp(self.start), pd.Timestamp(self.end)
        except ValueError as exc:
            raise ConfigError(
                f"synth: start and end must be ISO dates (got start={self.start!r}, "
                f"end={self.end!r})") from exc
        if start > end:
            raise ConfigError(f"synth: start must not be after end (got start={self.start}, "
                              f"end={self.end})")
        cap = self.max_transactions()
        if self.transactions > cap:
            raise ConfigError(
                f"synth: transactions exceed what {self.customers:,} customers can make over "
                f"{self.num_days} days: at most {cap:,} (the heaviest customer buys "
                f"{_HEAVIEST_RATIO:.1f}x the mean, in at most one visit a day of "
                f"{_MAX_ROWS_PER_VISIT} rows on average) (got {self.transactions:,})")

    @property
    def num_days(self) -> int:
        return int((pd.Timestamp(self.end) - pd.Timestamp(self.start)).days) + 1

    def max_transactions(self) -> int:
        """The most rows the model can give ``customers`` customers over the period.

        Rows per customer follow the real distribution scaled to the requested mean; the
        heaviest real customer buys ``_HEAVIEST_RATIO`` times the mean. She may visit at most
        once a day with ``_MAX_ROWS_PER_VISIT`` rows a visit on average, which caps the mean.
        """
        active = self.customers * (1.0 - _NO_PURCHASE_SHARE)
        per_customer = self.num_days * _MAX_ROWS_PER_VISIT / _HEAVIEST_RATIO
        return int(active * per_customer)


_HEAVIEST_RATIO = 368 / 23.2127
"""Heaviest over mean rows per customer in the real by-customer sample (368 / 23.2)."""
_MAX_ROWS_PER_VISIT = 8


@dataclass
class SynthSummary:
    """What ``generate`` wrote: the files, the sizes and the seconds spent per step."""

    out: Path
    files: list[str]
    num_articles: int
    num_customers: int
    num_transactions: int
    seconds: dict[str, float]


# --------------------------------------------------------------------------- helpers
def _weighted_choice(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    """int64 array of shape (size,): indices drawn with probability proportional to weights."""
    p = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(p)
    return np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right").clip(0, len(p) - 1)


def _hex_ids(rng: np.random.Generator, n: int, chars: int = 64) -> np.ndarray:
    """object array of shape (n,): random lowercase hex strings of ``chars`` characters."""
    raw = rng.integers(0, 256, size=(n, chars // 2), dtype=np.uint8)
    table = np.array([f"{i:02x}" for i in range(256)], dtype="U2")
    pairs = table[raw].view(f"U{chars}").ravel() if n else np.array([], dtype=f"U{chars}")
    return pairs.astype(object)


# --------------------------------------------------------------------------- catalogue
def _make_articles(params: SynthParams, stats: dict, rng: np.random.Generator):
    """The articles table and each article's hidden attributes.

    Returns
    -------
    articles : DataFrame
        The H&M articles table (25 columns), sorted by ``article_id``.
    hidden : dict of arrays of shape (num_articles,)
        ``product`` int32, ``launch_day`` int32 (days from start, may be negative),
        ``popularity`` float64, ``decay_days`` float64, ``price_sek`` float64,
        ``markdown_day`` int32, ``markdown_factor`` float64.
    """
    a_stats = stats["articles"]
    n_articles = params.articles
    first_day = pd.Timestamp(params.start)

    # Products with a real hierarchy (real frequencies), each with a real number of colour
    # variants for its product type and index group; draw products until the articles are covered.
    hierarchy = pd.DataFrame(a_stats["hierarchy"])
    h_weights = hierarchy.pop("weight").to_numpy(dtype=float)
    variant_lists = hierarchy.pop("variants").tolist()
    h_all = _weighted_choice(rng, h_weights, n_articles + 8)  # products have >= 1 article
    draws = np.empty(len(h_all), dtype=np.int64)
    order = np.argsort(h_all, kind="stable")
    bounds = np.searchsorted(h_all[order], np.arange(len(h_weights) + 1))
    for combo in np.flatnonzero(np.diff(bounds)):
        mine = order[bounds[combo]:bounds[combo + 1]]
        pairs = np.asarray(variant_lists[combo])
        draws[mine] = pairs[_weighted_choice(rng, pairs[:, 1], len(mine)), 0]
    ends = np.cumsum(draws)
    n_products = int(np.searchsorted(ends, n_articles)) + 1
    h_idx = h_all[:n_products]
    variants = draws[:n_products].copy()
    variants[-1] -= ends[n_products - 1] - n_articles
    product = np.repeat(np.arange(n_products, dtype=np.int32), variants)
    variant_no = np.arange(n_articles) - np.repeat(np.cumsum(variants) - variants, variants)

    # Colour per article: a real combination with its real frequency.
    colour = pd.DataFrame(a_stats["colour"])
    c_idx = _weighted_choice(rng, colour.pop("weight"), n_articles)
    table = hierarchy.iloc[h_idx[product]].reset_index(drop=True)
    table = pd.concat([table, colour.iloc[c_idx].reset_index(drop=True)], axis=1)
    type_no = table["product_type_no"].to_numpy()

    # Launch week per product: seasonal types launch about a month before their sales peak.
    n_days = params.num_days
    lo = -int(n_days * _LAUNCHED_BEFORE_START / (1 - _LAUNCHED_BEFORE_START))
    p_type = type_no[np.cumsum(variants) - variants]
    season = a_stats["season"]
    peak = np.array([season.get(str(t), [0.0, 0.0])[0] for t in p_type])
    strength = np.minimum(np.array([season.get(str(t), [0.0, 0.0])[1] for t in p_type]), 0.5)
    launch = np.empty(n_products, dtype=np.int64)
    pending = np.arange(n_products)
    start_doy = first_day.day_of_year
    while len(pending):
        cand = rng.integers(lo, n_days, size=len(pending))
        angle = 2 * np.pi * ((start_doy + cand + 30 - peak[pending]) % 365.25) / 365.25
        keep = rng.random(len(pending)) * (1 + 2 * strength[pending]) < (
            1 + 2 * strength[pending] * np.cos(angle))
        launch[pending[keep]] = cand[keep]
        pending = pending[~keep]
    launch[np.argmin(launch)] = lo  # at least one product on sale from the first day
    launch = (launch // 7) * 7  # launches on the first day of a generation week

    # Product codes grow with launch day, like H&M's; article ids are 0 + code + variant.
    order = np.argsort(launch, kind="stable")
    code_lo, code_hi = a_stats["product_code_range"]
    span = max(code_hi - code_lo, n_products * 2)
    codes = np.sort(rng.choice(span, size=n_products, replace=False)) + code_lo
    product_code = np.empty(n_products, dtype=np.int64)
    product_code[order] = codes
    article_id = np.char.add(np.char.zfill(product_code[product].astype(str), 7),
                             np.char.zfill((variant_no + 1).astype(str), 3))

    # Names and descriptions from the real ones of the product type.
    names, descs = a_stats["names"], a_stats["descriptions"]
    p_name = np.array([names[str(t)][rng.integers(len(names[str(t)]))] for t in p_type],
                      dtype=object)
    p_desc = np.array([descs[str(t)][rng.integers(len(descs[str(t)]))] if descs[str(t)]
                       else None for t in p_type], dtype=object)
    suffix = np.where(variant_no > 0, np.char.add(" (", np.char.add(
        np.char.mod("%d", variant_no), ")")), "")
    table.insert(0, "article_id", article_id.astype(object))
    table.insert(1, "product_code", product_code[product])
    table.insert(2, "prod_name", (p_name[product].astype(str) + suffix).astype(object))
    table["detail_desc"] = p_desc[product]

    # Popularity: a product factor shared by its variants, a variant factor, decay in days.
    popularity = (rng.lognormal(0.0, _POPULARITY_SIGMA, n_products)[product]
                  * rng.lognormal(0.0, _VARIANT_SIGMA, n_articles))
    decay = rng.lognormal(np.log(_DECAY_DAYS_MEDIAN), _DECAY_SIGMA, n_products)[product]

    # Price on the x.99 SEK grid from the type's real log-price, markdown after the peak.
    prices = a_stats["price"]
    mu = np.empty(n_products)
    sd = np.empty(n_products)
    groups = table["product_group_name"].to_numpy()[np.cumsum(variants) - variants]
    for i, (t, g) in enumerate(zip(p_type, groups)):
        entry = prices["by_type"].get(str(t))
        if entry is None or entry[2] < 5:
            entry = prices["by_group"].get(str(g), [np.log(19.99), 0.5, 0])
        mu[i], sd[i] = entry[0], entry[1]
    grid = np.asarray(prices["points"])
    raw = np.exp(rng.normal(mu, sd))
    price_sek = grid[np.abs(grid[None, :] - raw[:, None]).argmin(axis=1)][product]
    markdown_day = launch[product] + (decay * rng.uniform(2.0, 4.0, n_articles)).astype(np.int64)
    markdown_factor = np.asarray(_MARKDOWN_FACTORS)[rng.integers(0, 3, n_articles)]

    columns = ["article_id", "product_code", "prod_name", *HIERARCHY_COLUMNS[:3],
               *COLOUR_COLUMNS, *HIERARCHY_COLUMNS[3:], "detail_desc"]
    table = table[columns]
    for col in table.columns:
        if col.endswith(("_no", "_code", "_id")) and col not in ("article_id", "index_code"):
            table[col] = table[col].astype(np.int64)
        elif col != "product_code":
            table[col] = table[col].astype("str" if col != "detail_desc" else object)
    hidden = {
        "product": product, "launch_day": launch[product].astype(np.int32),
        "popularity": popularity, "decay_days": decay, "price_sek": price_sek,
        "markdown_day": markdown_day.astype(np.int32), "markdown_factor": markdown_factor,
    }

    # Rows in article_id order (as H&M's table); products stay contiguous, renumbered in order.
    by_id = np.argsort(article_id, kind="stable")
    table = table.iloc[by_id].reset_index(drop=True)
    hidden = {key: value[by_id] for key, value in hidden.items()}
    hidden["product"] = _renumber_runs(hidden["product"])
    return table, hidden


def _renumber_runs(values: np.ndarray) -> np.ndarray:
    """int32 array: runs of equal values numbered 0, 1, 2... in order of appearance."""
    starts = np.concatenate([[True], values[1:] != values[:-1]])
    return (np.cumsum(starts) - 1).astype(np.int32)


# --------------------------------------------------------------------------- tastes
_TASTE_COLUMNS = ("index_group_no", "product_group_name", "perceived_colour_master_id")
_TASTE_SHAPES = (0.5, 1.0, 1.5)
"""Gamma shape of each archetype's factor per attribute: smaller is more concentrated."""


def _make_archetypes(params: SynthParams, stats: dict, rng: np.random.Generator):
    """Archetype weights per attribute value and archetype age centres.

    Returns
    -------
    prefs : dict attribute -> (values list, float64 array of shape (K, n_values))
    age_centre : float64 array of shape (K,)
    """
    prefs = {}
    for col, shape in zip(_TASTE_COLUMNS, _TASTE_SHAPES):
        values = list(stats["purchase_share"][col])
        factor = rng.gamma(shape, 1.0 / shape, size=(params.archetypes, len(values)))
        prefs[col] = (values, factor)
    ages = stats["customers"]["age"]
    age_centre = np.asarray(ages["values"], dtype=float)[
        _weighted_choice(rng, ages["weights"], params.archetypes)]
    return prefs, age_centre


# --------------------------------------------------------------------------- customers
def _make_customers(params: SynthParams, stats: dict, rng: np.random.Generator,
                    age_centre: np.ndarray):
    """The customers table, each customer's archetype mixture, online share and rows.

    Returns
    -------
    customers : DataFrame with the 7 H&M customer columns
    hidden : dict of arrays of shape (num_customers,): ``primary``/``secondary`` int32,
        ``primary_weight`` float64, ``online_share`` float64, ``rows`` int64
    """
    n = params.customers
    c_stats = stats["customers"]
    customer_id = _hex_ids(rng, n)

    # Age from the real histogram, smoothed by +-1 year; the real share missing.
    ages = c_stats["age"]
    age = np.asarray(ages["values"], dtype=float)[_weighted_choice(rng, ages["weights"], n)]
    age = np.clip(age + rng.integers(-1, 2, n), 16, 99)
    age_known = age.copy()
    age[rng.random(n) < c_stats["age"]["missing_share"]] = np.nan

    status = pd.DataFrame(c_stats["status"])
    s_idx = _weighted_choice(rng, status.pop("weight"), n)
    status = status.iloc[s_idx].reset_index(drop=True)

    # Postal codes: one hub code with its real share, the rest skewed over a pool of codes.
    n_pool = max(1, int(n / _CUSTOMERS_PER_POSTAL_CODE))
    pool = _hex_ids(rng, n_pool + 1)
    code = (n_pool * rng.random(n) ** 2.0).astype(np.int64) + 1
    code[rng.random(n) < c_stats["postal_hub_share"]] = 0
    postal = pool[code]

    customers = pd.DataFrame({
        "customer_id": customer_id,
        "FN": status["FN"].astype(float).to_numpy(),
        "Active": status["Active"].astype(float).to_numpy(),
        "club_member_status": status["club_member_status"].to_numpy(dtype=object),
        "fashion_news_frequency": status["fashion_news_frequency"].to_numpy(dtype=object),
        "age": age,
        "postal_code": postal,
    })

    # Tastes: primary archetype near the customer's age, a secondary one at random.
    k = params.archetypes
    primary = np.empty(n, dtype=np.int32)
    for lo in range(0, n, CUSTOMER_CHUNK):
        hi = min(n, lo + CUSTOMER_CHUNK)
        w = np.exp(-0.5 * ((age_known[lo:hi, None] - age_centre[None, :]) / 10.0) ** 2)
        cdf = np.cumsum(w, axis=1)
        u = rng.random(hi - lo) * cdf[:, -1]
        primary[lo:hi] = (cdf < u[:, None]).sum(axis=1).clip(0, k - 1)
    secondary = rng.integers(0, k, n).astype(np.int32)
    primary_weight = rng.beta(4.0, 1.5, n)

    # Online share from the real per-customer histogram (uniform within each tenth).
    hist = stats["activity"]["online_share_histogram"]
    online = (_weighted_choice(rng, hist, n) + rng.random(n)) / len(hist)
    online = np.where(online < 0.1, 0.0, np.where(online >= 0.9, 1.0, online))

    rows = _rows_per_customer(params, stats, rng)
    hidden = {"primary": primary, "secondary": secondary, "primary_weight": primary_weight,
              "online_share": online, "rows": rows}
    return customers, hidden


def _rows_per_customer(params: SynthParams, stats: dict, rng: np.random.Generator):
    """int64 array of shape (customers,): rows per customer, summing exactly to transactions.

    Drawn from the real distribution (interpolated quantiles) scaled to the requested mean;
    ``_NO_PURCHASE_SHARE`` of customers buy nothing.
    """
    n, total = params.customers, params.transactions
    real = np.asarray(stats["activity"]["rows_per_customer"], dtype=float)
    quantiles = (np.arange(len(real)) + 0.5) / len(real)
    active = rng.random(n) >= _NO_PURCHASE_SHARE
    if total < active.sum():  # too few rows for everyone: the first ones get one each
        active &= np.cumsum(active) <= total
    n_active = int(active.sum())
    if n_active == 0:
        return np.zeros(n, dtype=np.int64)
    base = np.interp(rng.random(n_active), quantiles, real)
    base *= total / base.sum()
    rows = np.floor(base).astype(np.int64)
    rows += rng.random(n_active) < (base - rows)
    rows = np.maximum(rows, 1)

    # Fix the total exactly: add or take rows in proportion to what customers have.
    delta = total - int(rows.sum())
    while delta != 0:
        if delta > 0:
            rows += rng.multinomial(delta, rows / rows.sum())
        else:
            spare = rows - 1
            take = np.minimum(rng.multinomial(-delta, spare / spare.sum()), spare)
            rows -= take
        delta = total - int(rows.sum())
    out = np.zeros(n, dtype=np.int64)
    out[active] = rows
    return out


# --------------------------------------------------------------------------- choice tables
def _choice_tables(params: SynthParams, stats: dict, articles: pd.DataFrame, hidden: dict,
                   prefs: dict, c_hidden: dict):
    """Weekly cumulative popularity per article and per (archetype, taste cell).

    Articles are ordered by taste cell (index group, product group, colour master); ``cum[w]``
    is the cumulative popularity in that order in week ``w``, and ``cell_cdf[w, k]`` the
    cumulative choice weight of each cell for archetype ``k`` in week ``w``. ``prefs`` is
    updated in place with the calibrated archetype weights (the ground truth).

    Returns
    -------
    dict with ``perm`` int32 (M,), ``cell_start``/``cell_end`` int64 (C,), ``cum`` float64
    (W, M), ``cell_cdf`` float64 (W, K, C)
    """
    n_weeks = (params.num_days + 6) // 7
    keys = [articles[c].astype(str).to_numpy() for c in _TASTE_COLUMNS]
    cell_key = pd.MultiIndex.from_arrays(keys)
    cell, uniques = pd.factorize(cell_key)
    perm = np.argsort(cell, kind="stable").astype(np.int32)
    counts = np.bincount(cell, minlength=len(uniques))
    cell_end = np.cumsum(counts)
    cell_start = cell_end - counts

    # Popularity of each article in each week: base x exp(-age / decay) + floor, 0 before launch.
    week_day = np.arange(n_weeks) * 7 + 3
    pop = hidden["popularity"][perm]
    launch = hidden["launch_day"][perm]
    decay = hidden["decay_days"][perm]
    cum = np.empty((n_weeks, len(perm)), dtype=np.float64)
    for w in range(n_weeks):
        age = week_day[w] - launch
        life = np.where(age >= 0, np.exp(-np.maximum(age, 0) / decay) + _DECAY_FLOOR, 0.0)
        np.cumsum(pop * life, out=cum[w])
    cell_pop = np.diff(np.concatenate([np.zeros((n_weeks, 1)), cum[:, cell_end - 1]], axis=1),
                       axis=1)

    # Each archetype's weight of each cell: the product of its factors over the taste columns,
    # times a multiplier per value calibrated so that all customers together buy each value in
    # its real purchase share (fixed-point iterations on the expected shares).
    value_idx, factors, targets = [], [], []
    for j, col in enumerate(_TASTE_COLUMNS):
        values, factor = prefs[col]
        position = {v: i for i, v in enumerate(values)}
        value_idx.append(np.array([position.get(u[j], len(values)) for u in uniques]))
        factors.append(np.concatenate([factor, factor.mean(axis=1, keepdims=True)], axis=1))
        share = stats["purchase_share"][col]
        targets.append(np.array([share[v] for v in values] + [0.0]))
    usage = (np.bincount(c_hidden["primary"], c_hidden["rows"] * c_hidden["primary_weight"],
                         minlength=params.archetypes)
             + np.bincount(c_hidden["secondary"],
                           c_hidden["rows"] * (1 - c_hidden["primary_weight"]),
                           minlength=params.archetypes))
    usage = usage / usage.sum() if usage.sum() > 0 else np.full(params.archetypes,
                                                                   1 / params.archetypes)
    on_sale = cell_pop.sum(axis=0) / max(cell_pop.sum(), 1e-300)
    multipliers = [np.ones(f.shape[1]) for f in factors]
    for _ in range(_CALIBRATION_ROUNDS):
        taste = np.ones((params.archetypes, len(uniques)))
        for idx, factor, mult in zip(value_idx, factors, multipliers):
            taste *= factor[:, idx] * mult[idx]
        chosen = taste * on_sale
        chosen /= np.maximum(chosen.sum(axis=1, keepdims=True), 1e-300)
        bought = usage @ chosen
        for idx, mult, target in zip(value_idx, multipliers, targets):
            share = np.bincount(idx, bought, minlength=len(mult))
            present = share > 0
            mult[present] *= (target[present] / share[present]) ** 0.7
            mult /= mult[present].mean() if present.any() else 1.0
    taste = np.ones((params.archetypes, len(uniques)))
    for idx, factor, mult in zip(value_idx, factors, multipliers):
        taste *= factor[:, idx] * mult[idx]
    for col, idx, mult in zip(_TASTE_COLUMNS, value_idx, multipliers):
        values, factor = prefs[col]
        prefs[col] = (values, factor * mult[None, :len(values)])
    cell_cdf = np.cumsum(cell_pop[:, None, :] * taste[None, :, :], axis=2)
    return {"perm": perm, "cell_start": cell_start.astype(np.int64),
            "cell_end": cell_end.astype(np.int64), "cum": cum, "cell_cdf": cell_cdf,
            "cells": uniques}


def _day_cdf(params: SynthParams, stats: dict) -> np.ndarray:
    """float64 array of shape (num_days,): cumulative visit weight of each day (weekday x month)."""
    days = pd.date_range(params.start, params.end, freq="D")
    dow = np.asarray(stats["calendar"]["day_of_week"])[days.day_of_week]
    month = np.asarray(stats["calendar"]["month"])[days.month - 1]
    cdf = np.cumsum(dow * month)
    return cdf / cdf[-1]


def _make_transactions(params: SynthParams, stats: dict, c_hidden: dict, a_hidden: dict,
                       tables: dict, seed_seq: np.random.SeedSequence, progress: bool = False):
    """All transaction rows as compact arrays, sorted by day.

    Returns
    -------
    dict of arrays of shape (transactions,): ``day`` int16 (days from start), ``customer``
    int32, ``article`` int32, ``channel`` int8, ``price`` float64
    """
    total = params.transactions
    out = {"day": np.empty(total, np.int16), "customer": np.empty(total, np.int32),
           "article": np.empty(total, np.int32), "channel": np.empty(total, np.int8)}
    act = stats["activity"]
    unit_w = np.zeros(max(act["units"]["values"]))
    unit_w[np.asarray(act["units"]["values"]) - 1] = act["units"]["weights"]
    unit_cdf = np.cumsum(unit_w) / unit_w.sum()

    # Repurchase and variant probabilities per line, calibrated so that the realised shares
    # (which also include chance repeats of fresh choices) come out near the real ones.
    repurchase = act["repurchase_share"] * 0.6
    variant = act["variant_share"] * 1.35
    product = a_hidden["product"]
    product_size = np.bincount(product).astype(np.int64)
    product_start = (np.cumsum(product_size) - product_size).astype(np.int64)
    day_cdf = _day_cdf(params, stats)
    from fashiongraph.data.synth_kernel import generate_chunk as kernel


    rows = c_hidden["rows"]
    n = params.customers
    chunk_seeds = seed_seq.generate_state((n + CUSTOMER_CHUNK - 1) // CUSTOMER_CHUNK, np.uint32)
    pos = 0
    for i, lo in enumerate(range(0, n, CUSTOMER_CHUNK)):
        hi = min(n, lo + CUSTOMER_CHUNK)
        size = int(rows[lo:hi].sum())
        day = np.empty(size, np.int64)
        cust = np.empty(size, np.int64)
        art = np.empty(size, np.int64)
        chan = np.empty(size, np.int8)
        written = kernel(int(chunk_seeds[i]), rows[lo:hi], c_hidden["primary"][lo:hi],
                         c_hidden["secondary"][lo:hi], c_hidden["primary_weight"][lo:hi],
                         c_hidden["online_share"][lo:hi], day_cdf, unit_cdf,
                         act["visit_probability"], repurchase, variant, tables["cum"],
                         tables["cell_cdf"], tables["cell_start"], tables["cell_end"],
                         tables["perm"], product, product_start, product_size,
                         day, cust, art, chan)
        assert written == size
        out["day"][pos:pos + size] = day
        out["customer"][pos:pos + size] = cust + lo
        out["article"][pos:pos + size] = art
        out["channel"][pos:pos + size] = chan
        pos += size
        log.debug("chunk %d: customers %d..%d, %d rows", i, lo, hi, size)

    # Sort by day (stable: each customer's rows stay together within a day, like H&M's file).
    order = np.argsort(out["day"], kind="stable")
    for key in out:
        out[key] = out[key][order]
    del order
    art = out["article"]
    marked = out["day"] >= a_hidden["markdown_day"][art]
    sek = a_hidden["price_sek"][art]
    sek = np.where(marked, np.round(sek * a_hidden["markdown_factor"][art]) - 0.01, sek)
    out["price"] = np.maximum(sek, 0.99) / 590.0
    return out


# --------------------------------------------------------------------------- writing
def _write_table(frame_or_table, base: Path, formats: tuple[str, ...]) -> list[str]:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    table = (frame_or_table if isinstance(frame_or_table, pa.Table)
             else pa.Table.from_pandas(frame_or_table, preserve_index=False))
    written = []
    if "parquet" in formats:
        pq.write_table(table, base.with_suffix(".parquet"))
        written.append(base.with_suffix(".parquet").name)
    if "csv" in formats:
        pcsv.write_csv(table, base.with_suffix(".csv"))
        written.append(base.with_suffix(".csv").name)
    return written


def _write_transactions(tx: dict, customer_ids: np.ndarray, article_ids: np.ndarray,
                        start: str, out: Path, formats: tuple[str, ...]) -> list[str]:
    """Write transactions_train in row groups: t_dat, customer_id, article_id, price, channel."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    cust_arr = pa.array(customer_ids, type=pa.string())
    art_arr = pa.array(article_ids, type=pa.string())
    epoch = (pd.Timestamp(start) - pd.Timestamp("1970-01-01")).days
    schema = pa.schema([("t_dat", pa.date32()), ("customer_id", pa.string()),
                        ("article_id", pa.string()), ("price", pa.float64()),
                        ("sales_channel_id", pa.int8())])
    csv_schema = pa.schema([("t_dat", pa.string()), *list(schema)[1:4],
                            ("sales_channel_id", pa.int64())])
    pq_writer = csv_writer = None
    written = []
    if "parquet" in formats:
        pq_writer = pq.ParquetWriter(out / "transactions_train.parquet", schema)
        written.append("transactions_train.parquet")
    if "csv" in formats:
        csv_writer = pcsv.CSVWriter(out / "transactions_train.csv", csv_schema)
        written.append("transactions_train.csv")
    total = len(tx["day"])
    for lo in range(0, max(total, 1), ROW_GROUP):
        hi = min(total, lo + ROW_GROUP)
        dates = pa.array((tx["day"][lo:hi].astype(np.int32) + epoch), type=pa.int32())
        dates = dates.cast(pa.date32())
        batch = pa.table([dates, pc.take(cust_arr, pa.array(tx["customer"][lo:hi])),
                          pc.take(art_arr, pa.array(tx["article"][lo:hi])),
                          pa.array(tx["price"][lo:hi]), pa.array(tx["channel"][lo:hi])],
                         schema=schema)
        if pq_writer is not None:
            pq_writer.write_table(batch)
        if csv_writer is not None:
            csv_writer.write_table(batch.cast(csv_schema))
    for writer in (pq_writer, csv_writer):
        if writer is not None:
            writer.close()
    return written


def generate(params: SynthParams, out: str | Path, *, formats: str = "parquet",
             stats: dict | None = None, progress: bool = False) -> SynthSummary:
    """Generate the three H&M tables and the ground truth into ``out``.

    Parameters
    ----------
    params : SynthParams
        Sizes, seed and period (already checked).
    out : path
        Directory to write (created; existing files of the same names are replaced).
    formats : {"parquet", "csv", "both"}
        Table format; the ground truth is always parquet.
    stats : dict, optional
        Derived statistics (default: the copy shipped with the package).

    Returns
    -------
    SynthSummary
    """
    if formats not in FORMATS:
        raise ConfigError(f"synth: format must be one of {', '.join(FORMATS)} (got {formats!r})")
    fmt = ("parquet", "csv") if formats == "both" else (formats,)
    stats = load_statistics() if stats is None else stats
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seq = np.random.SeedSequence(params.seed)
    s_articles, s_tastes, s_customers, s_rows = seq.spawn(4)
    seconds: dict[str, float] = {}
    files: list[str] = []

    t0 = time.perf_counter()
    articles, a_hidden = _make_articles(params, stats, np.random.default_rng(s_articles))
    prefs, age_centre = _make_archetypes(params, stats, np.random.default_rng(s_tastes))
    customers, c_hidden = _make_customers(params, stats, np.random.default_rng(s_customers),
                                          age_centre)
    seconds["tables"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    tables = _choice_tables(params, stats, articles, a_hidden, prefs, c_hidden)
    tx = _make_transactions(params, stats, c_hidden, a_hidden, tables, s_rows, progress)
    del tables
    seconds["transactions"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    files += _write_table(articles, out / "articles", fmt)
    files += _write_table(customers, out / "customers", fmt)
    files += _write_transactions(tx, customers["customer_id"].to_numpy(),
                                 articles["article_id"].to_numpy(), params.start, out, fmt)
    files += _write_ground_truth(out, params, customers, articles, c_hidden, a_hidden, prefs,
                                 age_centre)
    meta = {"params": asdict(params), "formats": list(fmt),
            "statistics_source": stats.get("source", {}), "files": files}
    (out / "synth.json").write_text(json.dumps(meta, indent=2))
    files.append("synth.json")
    seconds["write"] = time.perf_counter() - t0
    log.info("synth: wrote %s in %.1f s", out, sum(seconds.values()))
    return SynthSummary(out=out, files=files, num_articles=len(articles),
                        num_customers=len(customers), num_transactions=len(tx["day"]),
                        seconds=seconds)


def _write_ground_truth(out: Path, params: SynthParams, customers: pd.DataFrame,
                        articles: pd.DataFrame, c_hidden: dict, a_hidden: dict, prefs: dict,
                        age_centre: np.ndarray) -> list[str]:
    """The hidden model: customers' archetypes, archetypes' tastes, articles' life cycles."""
    start = pd.Timestamp(params.start)
    truth = pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy(),
        "primary_archetype": c_hidden["primary"], "secondary_archetype": c_hidden["secondary"],
        "primary_weight": c_hidden["primary_weight"], "online_share": c_hidden["online_share"],
        "num_transactions": c_hidden["rows"],
    })
    truth.to_parquet(out / "ground_truth.parquet", index=False)
    frames = []
    for col, (values, weights) in prefs.items():
        for k in range(weights.shape[0]):
            share = weights[k] / weights[k].sum()
            frames.append(pd.DataFrame({"archetype": k, "attribute": col, "value": values,
                                        "weight": share, "age_centre": age_centre[k]}))
    pd.concat(frames, ignore_index=True).to_parquet(out / "ground_truth_archetypes.parquet",
                                                    index=False)
    art = pd.DataFrame({
        "article_id": articles["article_id"].to_numpy(),
        "popularity": a_hidden["popularity"],
        "launch_date": start + pd.to_timedelta(a_hidden["launch_day"], unit="D"),
        "decay_days": a_hidden["decay_days"],
        "price_sek": a_hidden["price_sek"],
        "markdown_date": start + pd.to_timedelta(a_hidden["markdown_day"], unit="D"),
        "markdown_factor": a_hidden["markdown_factor"],
    })
    art.to_parquet(out / "ground_truth_articles.parquet", index=False)
    return ["ground_truth.parquet", "ground_truth_archetypes.parquet",
            "ground_truth_articles.parquet"]
