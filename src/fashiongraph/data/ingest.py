"""The data boundary: H&M tables (CSV or parquet) in, a validated canonical ``Dataset`` out.

Everything the rest of fashiongraph trusts is checked or converted here, once:

- ids are read as strings, never as numbers; article ids are zero-padded to 10 characters
  (ids that lost their leading zero are fixed and counted);
- exact duplicate transaction rows (one row per unit bought) become a ``quantity``;
- a missing optional column is tolerated, a missing required column is an error;
- an extra index column written by ``DataFrame.to_csv`` is ignored;
- an unparsable date or price is an error naming file, column, row and value;
- transactions of customers absent from the customers table are kept (the customers are added
  with empty attributes), transactions of unknown articles are excluded (or an error);
- a CSV with a ``.parquet`` suffix (or the reverse) is read by its content.

Every fix or exclusion becomes one line in ``Dataset.notes`` and one log line; each kind of
near-miss conversion also issues one :class:`~fashiongraph.errors.DataFixWarning`.

All work is vectorised (pyarrow for parsing, ``pd.factorize`` on distinct ids) so that the full
H&M table of 32M transactions loads in well under a minute.

Row numbers in messages count data rows from 1 (the header is not a row), in file order.
"""

from __future__ import annotations

import gzip
import logging
import re
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from fashiongraph.data.dataset import TRANSACTION_DTYPES, Dataset
from fashiongraph.data.schema import (
    ARTICLE_COLUMNS,
    ARTICLE_ID_WIDTH,
    CUSTOMER_COLUMNS,
    REQUIRED_ARTICLE_COLUMNS,
    REQUIRED_CUSTOMER_COLUMNS,
    REQUIRED_TRANSACTION_COLUMNS,
    TRANSACTION_COLUMNS,
    age_band,
)
from fashiongraph.errors import DataError, DataFixWarning

log = logging.getLogger(__name__)

NOTES_ATTR = "fashiongraph_notes"
"""Key of ``DataFrame.attrs`` under which the ``read_*`` functions leave their notes."""

_ID_COLUMNS = ("customer_id", "article_id")
_INDEX_COLUMN = re.compile(r"^(Unnamed: \d+|index|level_\d+|)$")
_SNIFF_BYTES = 1 << 16
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"

# Article columns that hold integer codes in the H&M table (``index_code`` is a letter).
_ARTICLE_INT_COLUMNS = tuple(
    c for c in ARTICLE_COLUMNS
    if c != "article_id" and c != "index_code" and c.endswith(("_code", "_no", "_id"))
)


class _Notes:
    """Collects what one file's reading fixed or excluded: a note, a log line, a warning."""

    def __init__(self, name: str):
        self.name = name
        self.lines: list[str] = []

    def say(self, text: str, *, warn: bool = False) -> None:
        line = f"{self.name}: {text}"
        self.lines.append(line)
        log.info("%s", line)
        if warn:
            warnings.warn(line, DataFixWarning, stacklevel=4)


# ---------------------------------------------------------------------------------------- files
def _sniff(path: Path) -> tuple[str, bytes]:
    """Return ``("parquet" | "csv" | "csv.gz", head)`` from the file's first bytes."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV or parquet file")
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if not head:
        raise DataError(f"{path.name}: empty file, not a table (got 0 bytes)")
    if head.startswith(_PARQUET_MAGIC):
        return "parquet", head
    kind = "csv"
    if head.startswith(_GZIP_MAGIC):
        kind = "csv.gz"
        try:
            with gzip.open(path, "rb") as f:
                head = f.read(_SNIFF_BYTES)
        except OSError as exc:
            raise DataError(f"{path.name}: broken gzip file, not a table (got {exc})") from None
    if b"\x00" in head:
        raise DataError(
            f"{path.name}: not a table: binary content that is neither parquet nor CSV "
            f"(got bytes {head[:8]!r})"
        )
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multi-byte character at the sniff boundary is fine.
        if exc.start < len(head) - 4:
            raise DataError(
                f"{path.name}: not a table: text is not UTF-8 at byte {exc.start} "
                f"(got {head[exc.start:exc.start + 4]!r})"
            ) from None
        text = head[: exc.start].decode("utf-8")
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise DataError(f"{path.name}: not a table: only whitespace (got {len(head)} bytes)")
    if stripped[0] in "{[":
        raise DataError(
            f"{path.name}: not a table: looks like JSON, expected CSV or parquet "
            f"(got {stripped[:20]!r})"
        )
    return kind, head


def _delimiter(head: bytes) -> str:
    """The most frequent of ``, ; TAB |`` on the header line (comma on a tie)."""
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _read_arrow(path: Path, notes: _Notes) -> pa.Table:
    """Read ``path`` as CSV or parquet by content; ids stay strings in CSV."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    kind, head = _sniff(path)
    suffix = path.suffix.lower()
    if kind == "parquet" and suffix != ".parquet":
        notes.say(f"content is parquet despite the suffix {suffix!r}; read as parquet", warn=True)
    elif kind != "parquet" and suffix == ".parquet":
        notes.say("content is CSV text despite the suffix '.parquet'; read as CSV", warn=True)

    if kind == "parquet":
        try:
            return pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{path.name}: broken parquet file, not a table (got {exc})") from None

    delimiter = _delimiter(head)
    if delimiter != ",":
        notes.say(f"CSV delimiter is {delimiter!r}, not ','; read with it", warn=True)
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in _ID_COLUMNS},
        strings_can_be_null=True,
    )
    try:
        return pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=convert,
        )
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path.name}: not a readable CSV table (got {exc})") from None


def _to_frame(table: pa.Table, notes: _Notes, *, known: tuple[str, ...],
              required: tuple[str, ...], optional_said: dict[str, str]) -> pd.DataFrame:
    """Check the columns of ``table`` and turn it into a frame of the known columns.

    ``optional_said`` maps optional columns to what their absence means (said in a note).
    """
    names = table.column_names
    index_like = [c for c in names if c not in known and _INDEX_COLUMN.match(c)]
    if index_like:
        notes.say(f"ignored index column(s) {', '.join(repr(c) for c in index_like)} "
                  "(written by pandas to_csv)")
    extra = [c for c in names if c not in known and c not in index_like]
    if extra:
        notes.say(f"ignored column(s) not in the H&M format: {', '.join(map(repr, extra))}")
    for col in required:
        if col not in names:
            raise DataError(
                f"{notes.name}: missing required column {col!r} "
                f"(got columns {', '.join(map(repr, names)) or 'none'})"
            )
    for col, meaning in optional_said.items():
        if col not in names:
            notes.say(f"optional column {col!r} is missing: {meaning}")
    if table.num_rows == 0:
        raise DataError(f"{notes.name}: the table has a header but no rows (got 0 rows)")

    keep = [c for c in names if c in known]
    table = table.select(keep)
    # Arrow dates would become Python date objects in pandas; timestamps stay vectorised.
    for i, col in enumerate(table.column_names):
        if pa.types.is_date(table.schema.field(i).type):
            table = table.set_column(i, col, table.column(i).cast(pa.timestamp("s")))
    return table.to_pandas(self_destruct=True)


# ------------------------------------------------------------------------------------ columns
def _first_bad(bad: np.ndarray, raw: pd.Series) -> tuple[int, object, int]:
    """1-based row number, value and count of the rows flagged in ``bad`` (bool array)."""
    where = np.flatnonzero(bad)
    return int(where[0]) + 1, raw.iloc[where[0]], len(where)


def _bad_value(notes: _Notes, column: str, rule: str, bad: np.ndarray, raw: pd.Series):
    row, value, count = _first_bad(bad, raw)
    more = f"; {count:,} rows like this" if count > 1 else ""
    value = None if value is None or (isinstance(value, float) and value != value) else value
    return DataError(
        f"{notes.name}: column {column!r} row {row}: {rule} (got {value!r}){more}"
    )


def _string_ids(frame: pd.DataFrame, column: str, notes: _Notes) -> pd.Categorical:
    """The id column as a categorical of strings; numeric ids are converted and said.

    Works on the distinct ids only, so a 32M-row column costs one factorize.
    """
    s = frame[column]
    if s.isna().any():
        raise _bad_value(notes, column, "missing id", s.isna().to_numpy(), s)
    codes, uniques = pd.factorize(s, sort=False)
    uniques = pd.Index(uniques)
    if not (pd.api.types.is_string_dtype(uniques.dtype) or uniques.dtype == object):
        values = uniques.to_numpy()
        if np.issubdtype(values.dtype, np.floating):
            if not np.all(np.isfinite(values) & (values == np.round(values))):
                bad = ~np.isfinite(values) | (values != np.round(values))
                raise _bad_value(notes, column, "id is not an integer",
                                 bad[codes], s)
            values = values.astype(np.int64)
        notes.say(f"column {column!r} was stored as numbers ({s.dtype}); read as strings",
                  warn=True)
        uniques = pd.Index(values.astype(str), dtype="str")
    else:
        uniques = pd.Index(uniques.astype("str"))
    return pd.Categorical.from_codes(codes, categories=uniques, validate=False)


def _pad_article_ids(ids: pd.Categorical, notes: _Notes, *, what: str) -> pd.Categorical:
    """Zero-pad digit-only article ids shorter than 10 characters; count the rows fixed."""
    cats = pd.Series(ids.categories)
    short = (cats.str.len() < ARTICLE_ID_WIDTH) & cats.str.fullmatch(r"\d+")
    short = short.fillna(False).to_numpy(bool)
    if not short.any():
        return ids
    padded = cats.where(~short, cats.str.zfill(ARTICLE_ID_WIDTH))
    rows = int(np.bincount(ids.codes, minlength=len(cats))[short].sum())
    example = cats[short].iloc[0]
    notes.say(
        f"{rows:,} {what} with {int(short.sum()):,} distinct article ids shorter than "
        f"{ARTICLE_ID_WIDTH} characters (a lost leading zero) were zero-padded, "
        f"e.g. {example!r} -> {example.zfill(ARTICLE_ID_WIDTH)!r}",
        warn=True,
    )
    # Padding can merge an id with its already-padded twin: re-factorize the categories.
    new_codes, new_cats = pd.factorize(padded.to_numpy())
    return pd.Categorical.from_codes(new_codes[ids.codes], categories=pd.Index(new_cats,
                                                                              dtype="str"),
                                     validate=False)


def _dates(frame: pd.DataFrame, column: str, notes: _Notes) -> np.ndarray:
    """``datetime64[s]`` array of the date column; an unparsable value is an error."""
    s = frame[column]
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        parsed = s
    else:
        if s.dtype == object and len(s) and not isinstance(s.iloc[0], str):
            # datetime.date objects from a parquet date32 column.
            parsed = pd.to_datetime(s, errors="coerce")
        else:
            parsed = pd.to_datetime(s, format="ISO8601", errors="coerce")
    if getattr(parsed.dtype, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    bad = parsed.isna().to_numpy()
    if bad.any():
        raise _bad_value(notes, column, "cannot parse date, expected YYYY-MM-DD", bad, s)
    return parsed.to_numpy().astype("datetime64[s]")


def _numbers(frame: pd.DataFrame, column: str, notes: _Notes, *, rule: str) -> np.ndarray:
    """float64 array of a numeric column; an unparsable or missing value is an error."""
    s = frame[column]
    parsed = s if pd.api.types.is_numeric_dtype(s.dtype) else pd.to_numeric(s, errors="coerce")
    values = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise _bad_value(notes, column, rule, bad, s)
    return values


# -------------------------------------------------------------------------------------- readers
def read_transactions(path: str | Path) -> pd.DataFrame:
    """Read and normalise an H&M transactions table.

    Parameters
    ----------
    path
        CSV (optionally gzip-compressed) or parquet file, chosen by content.

    Returns
    -------
    pandas.DataFrame
        One row per input row, in file order: ``t_dat`` (datetime64[s]), ``customer_id`` and
        ``article_id`` (categorical of strings, article ids 10 characters), ``price`` (float64),
        ``sales_channel_id`` (int8, 0 where the input had none) and ``quantity`` (int32, 1 unless
        the input carried a ``quantity`` column). ``attrs["fashiongraph_notes"]`` lists what was
        fixed. Duplicates are not merged here; :func:`load_dataset` does that.

    Raises
    ------
    DataError
        The file is not a table, a required column is missing, or a date, price or id cannot be
        read (the message names the file, column, row and value).
    """
    path = Path(path)
    notes = _Notes(path.name)
    t0 = time.perf_counter()
    table = _read_arrow(path, notes)
    frame = _to_frame(
        table, notes, known=TRANSACTION_COLUMNS + ("quantity",),
        required=REQUIRED_TRANSACTION_COLUMNS,
        optional_said={"sales_channel_id": "sales_channel_id set to 0 for every row"},
    )
    del table

    # Each raw column is released once converted: the 64-character customer ids dominate memory.
    out = pd.DataFrame({"t_dat": _dates(frame, "t_dat", notes)})
    out["customer_id"] = _string_ids(frame, "customer_id", notes)
    del frame["customer_id"]
    out["article_id"] = _pad_article_ids(_string_ids(frame, "article_id", notes), notes,
                                         what="rows")
    del frame["article_id"]
    out["price"] = _numbers(frame, "price", notes, rule="cannot parse price as a number")
    if "sales_channel_id" in frame:
        channel = frame["sales_channel_id"]
        missing = channel.isna().to_numpy()
        if missing.any():
            notes.say(f"{int(missing.sum()):,} rows without sales_channel_id set to 0")
            channel = channel.fillna(0)
        values = _numbers(pd.DataFrame({"sales_channel_id": channel}), "sales_channel_id", notes,
                          rule="cannot parse sales channel as a small integer")
        bad = (values != np.round(values)) | (values < -128) | (values > 127)
        if bad.any():
            raise _bad_value(notes, "sales_channel_id", "sales channel must be a small integer",
                             bad, frame["sales_channel_id"])
        out["sales_channel_id"] = values.astype(np.int8)
    else:
        out["sales_channel_id"] = np.zeros(len(out), dtype=np.int8)
    if "quantity" in frame:
        values = _numbers(frame, "quantity", notes, rule="cannot parse quantity as a number")
        bad = (values < 1) | (values != np.round(values))
        if bad.any():
            raise _bad_value(notes, "quantity", "quantity must be a whole number >= 1", bad,
                             frame["quantity"])
        out["quantity"] = values.astype(np.int32)
    else:
        out["quantity"] = np.ones(len(out), dtype=np.int32)
    out.attrs[NOTES_ATTR] = notes.lines
    log.debug("read %s: %d rows in %.2fs", path.name, len(out), time.perf_counter() - t0)
    return out


def read_articles(path: str | Path) -> pd.DataFrame:
    """Read and normalise an H&M articles table.

    Parameters
    ----------
    path
        CSV or parquet file, chosen by content.

    Returns
    -------
    pandas.DataFrame
        One row per distinct article: ``article_id`` (str, 10 characters) and the H&M attribute
        columns present (integer codes as int64 where every value is an integer, names as str).
        ``attrs["fashiongraph_notes"]`` lists what was fixed.

    Raises
    ------
    DataError
        The file is not a table or has no ``article_id`` column.
    """
    path = Path(path)
    notes = _Notes(path.name)
    frame = _to_frame(
        _read_arrow(path, notes), notes, known=ARTICLE_COLUMNS,
        required=REQUIRED_ARTICLE_COLUMNS, optional_said={},
    )
    missing = [c for c in ARTICLE_COLUMNS if c not in frame]
    if missing:
        notes.say(f"optional column(s) missing, no graph nodes for them: {', '.join(missing)}")

    ids = _pad_article_ids(_string_ids(frame, "article_id", notes), notes, what="articles")
    frame["article_id"] = np.asarray(ids.astype("str"))
    frame = _drop_duplicate_ids(frame, "article_id", notes, what="articles")
    for col in _ARTICLE_INT_COLUMNS:
        # Codes stay int64 as in the H&M table; a column with other values stays as it is.
        if col in frame and not pd.api.types.is_integer_dtype(frame[col].dtype):
            parsed = pd.to_numeric(frame[col], errors="coerce")
            if parsed.notna().all() and (parsed == parsed.round()).all():
                frame[col] = parsed.astype(np.int64)
            else:
                log.debug("%s: column %r keeps dtype %s (not all integers)", notes.name, col,
                          frame[col].dtype)
    for col in frame.columns:
        if col not in _ARTICLE_INT_COLUMNS and col != "article_id":
            frame[col] = frame[col].astype("str")
    frame = frame.reset_index(drop=True)
    frame.attrs[NOTES_ATTR] = notes.lines
    return frame


def read_customers(path: str | Path) -> pd.DataFrame:
    """Read and normalise an H&M customers table.

    Parameters
    ----------
    path
        CSV or parquet file, chosen by content.

    Returns
    -------
    pandas.DataFrame
        One row per distinct customer: ``customer_id`` (str) and the customer columns present
        (``age``, ``FN``, ``Active`` as float32; ``club_member_status``,
        ``fashion_news_frequency``, ``postal_code`` as str, nulls kept), plus ``age_band``
        (str, null where the age is missing or impossible).
        ``attrs["fashiongraph_notes"]`` lists what was fixed.

    Raises
    ------
    DataError
        The file is not a table, has no ``customer_id`` column, or an ``age`` is not a number.
    """
    path = Path(path)
    notes = _Notes(path.name)
    frame = _to_frame(
        _read_arrow(path, notes), notes, known=CUSTOMER_COLUMNS,
        required=REQUIRED_CUSTOMER_COLUMNS,
        optional_said={"age": "no customer gets an age band"},
    )
    ids = _string_ids(frame, "customer_id", notes)
    frame["customer_id"] = np.asarray(ids.astype("str"))
    frame = _drop_duplicate_ids(frame, "customer_id", notes, what="customers")
    for col in ("FN", "Active", "age"):
        if col in frame:
            raw = frame[col]
            parsed = raw if pd.api.types.is_numeric_dtype(raw.dtype) else pd.to_numeric(
                raw, errors="coerce")
            bad = (parsed.isna() & raw.notna()).to_numpy()
            if bad.any():
                raise _bad_value(notes, col, "cannot parse as a number", bad, raw)
            frame[col] = parsed.astype(np.float32)
    for col in ("club_member_status", "fashion_news_frequency", "postal_code"):
        if col in frame:
            frame[col] = frame[col].astype("str")
    frame = frame.reset_index(drop=True)
    frame["age_band"] = _age_bands(frame["age"] if "age" in frame else None, len(frame))
    if "age" in frame and frame["age"].isna().any():
        notes.say(f"{int(frame['age'].isna().sum()):,} customers without age: "
                  "no age band")
    frame.attrs[NOTES_ATTR] = notes.lines
    return frame


def _drop_duplicate_ids(frame: pd.DataFrame, column: str, notes: _Notes, *,
                        what: str) -> pd.DataFrame:
    dup = frame[column].duplicated().to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0]) + 1
        notes.say(f"{int(dup.sum()):,} {what} repeat an earlier {column}; the first row of each "
                  f"is kept, e.g. row {row} ({frame[column].iloc[row - 1]!r})", warn=True)
        frame = frame[~dup]
    return frame


def _age_bands(age: pd.Series | None, n: int) -> pd.Series:
    """``age_band`` of each customer, from :func:`schema.age_band` over the distinct ages."""
    if age is None:
        return pd.Series(np.full(n, age_band(None), dtype=object), dtype="str")
    codes, uniques = pd.factorize(age, use_na_sentinel=True)
    labels = np.array([age_band(float(a)) for a in uniques] + [age_band(None)], dtype=object)
    return pd.Series(labels[codes], index=age.index, dtype="str")


# ---------------------------------------------------------------------------------- the dataset
def _table(value, reader, what: str) -> tuple[pd.DataFrame, list[str]]:
    if isinstance(value, pd.DataFrame):
        return value, list(value.attrs.get(NOTES_ATTR, []))
    if isinstance(value, (str, Path)):
        frame = reader(value)
        return frame, list(frame.attrs.get(NOTES_ATTR, []))
    raise DataError(f"{what} must be a file path or a frame from read_{what} "
                    f"(got {type(value).__name__})")


def load_dataset(articles, transactions, customers=None, *,
                 on_unknown_article: str = "exclude") -> Dataset:
    """Read, validate and index the three H&M tables into a canonical :class:`Dataset`.

    Parameters
    ----------
    articles, transactions, customers
        File paths (CSV or parquet) or frames returned by :func:`read_articles`,
        :func:`read_transactions` and :func:`read_customers`. ``customers`` is optional: without
        it every customer of the transactions is added with empty attributes.
    on_unknown_article
        ``"exclude"`` (default): transactions whose article is not in the articles table are
        dropped, counted and reported in a note. ``"error"``: they raise a ``DataError``.

    Returns
    -------
    Dataset
        ``articles`` in the order of the articles table (row = ``article_idx``), ``customers``
        in the order of the customers table followed by customers only seen in transactions
        (row = ``customer_idx``), transactions with the dtypes of ``TRANSACTION_DTYPES``, exact
        duplicate rows merged into ``quantity``, sorted by ``t_dat`` (stable), and ``notes``.

    Raises
    ------
    DataError
        Anything the readers raise, unknown articles with ``on_unknown_article="error"``, or no
        transaction left.
    ConfigError
        ``on_unknown_article`` is not one of the two values.
    """
    from fashiongraph.errors import ConfigError

    if on_unknown_article not in ("exclude", "error"):
        raise ConfigError(
            f"on_unknown_article must be 'exclude' or 'error' (got {on_unknown_article!r})"
        )
    t0 = time.perf_counter()
    art, art_notes = _table(articles, read_articles, "articles")
    tx, tx_notes = _table(transactions, read_transactions, "transactions")
    if customers is not None:
        cust, cust_notes = _table(customers, read_customers, "customers")
    else:
        cust, cust_notes = None, []
    notes = art_notes + cust_notes + tx_notes
    tx_name = _source_name(transactions, "transactions")
    art_name = _source_name(articles, "articles")

    def say(text: str) -> None:
        notes.append(text)
        log.info("%s", text)

    # Articles: the table's order defines article_idx; map the distinct ids of the transactions.
    tx_articles = tx["article_id"].astype("category").cat
    article_pos = pd.Index(art["article_id"]).get_indexer(tx_articles.categories)
    article_idx = article_pos[tx_articles.codes.to_numpy()]
    unknown = article_idx < 0
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        text = (f"{tx_name}: {int(unknown.sum()):,} of {len(tx):,} transactions "
                f"({int((article_pos < 0).sum()):,} distinct articles) have an article_id not "
                f"in {art_name}, e.g. row {row + 1}: article_id "
                f"{tx['article_id'].iloc[row]!r}, customer_id {tx['customer_id'].iloc[row]!r}, "
                f"t_dat {str(pd.Timestamp(tx['t_dat'].iloc[row]).date())}")
        if on_unknown_article == "error":
            raise DataError(text + " (on_unknown_article='error')")
        say(text + "; excluded")
        tx = tx[~unknown]
        article_idx = article_idx[~unknown]
        if len(tx) == 0:
            raise DataError(f"{tx_name}: no transaction has a known article "
                            f"(got 0 of {int(unknown.sum()):,} rows left)")

    # Customers: the table's order, then customers seen only in transactions.
    tx_customers = tx["customer_id"].astype("category").cat
    cats = tx_customers.categories
    customer_codes = tx_customers.codes.to_numpy()
    # Categories can outlive excluded rows: only customers with a transaction left count.
    used = np.bincount(customer_codes, minlength=len(cats)) > 0
    if cust is None:
        cust = pd.DataFrame({"customer_id": pd.Series(cats[used], dtype="str")})
        cust["age_band"] = _age_bands(None, len(cust))
        say(f"{tx_name}: no customers table given; {len(cust):,} customers taken from the "
            "transactions, with empty attributes")
        customer_pos = np.full(len(cats), -1, dtype=np.int64)
        customer_pos[used] = np.arange(len(cust))
    else:
        customer_pos = pd.Index(cust["customer_id"]).get_indexer(cats)
        absent = (customer_pos < 0) & used
        if absent.any():
            first_seen = _first_seen_order(customer_codes, absent)
            added = pd.DataFrame({"customer_id": pd.Series(cats[first_seen], dtype="str")})
            added["age_band"] = _age_bands(None, len(added))
            customer_pos[first_seen] = len(cust) + np.arange(len(added))
            rows = int(absent[customer_codes].sum())
            say(f"{tx_name}: {rows:,} transactions of {len(added):,} customers absent from "
                f"the customers table were kept; those customers were added with empty "
                f"attributes, e.g. {str(cats[first_seen[0]])!r}")
            cust = pd.concat([cust, added], ignore_index=True)
            for col in ("club_member_status", "fashion_news_frequency", "postal_code"):
                if col in cust:
                    cust[col] = cust[col].astype("str")
    customer_idx = customer_pos[customer_codes]

    # Exact duplicate rows are units of one purchase: merge them into quantity.
    merged = _merge_duplicates(
        t_dat=tx["t_dat"].to_numpy().astype("datetime64[s]"),
        customer_idx=customer_idx.astype(np.int32),
        article_idx=article_idx.astype(np.int32),
        price=tx["price"].to_numpy(np.float64),
        sales_channel_id=tx["sales_channel_id"].to_numpy(np.int8),
        quantity=tx["quantity"].to_numpy(np.int32),
    )
    if len(merged) < len(tx):
        say(f"{tx_name}: {len(tx) - len(merged):,} exact duplicate rows (one row per unit "
            f"bought) were kept as quantity: {len(tx):,} rows -> {len(merged):,} "
            "transactions")

    dataset = Dataset(articles=art.reset_index(drop=True), customers=cust.reset_index(drop=True),
                      transactions=merged, notes=notes)
    for frame in (dataset.articles, dataset.customers, dataset.transactions):
        frame.attrs.clear()
    log.info("loaded dataset: %d articles, %d customers, %d transactions (%d units) "
             "%s..%s in %.1fs", dataset.num_articles, dataset.num_customers, len(merged),
             int(merged["quantity"].sum()), dataset.first_date.date(), dataset.last_date.date(),
             time.perf_counter() - t0)
    return dataset


def _merge_duplicates(**columns: np.ndarray) -> pd.DataFrame:
    """Merge rows equal in every column but ``quantity``, summing it; sort by ``t_dat``.

    Parameters
    ----------
    **columns
        Arrays of shape (n,): ``t_dat`` datetime64[s], ``customer_idx`` and ``article_idx``
        int32, ``price`` float64, ``sales_channel_id`` int8, ``quantity`` int32.

    Returns
    -------
    pandas.DataFrame
        One row per distinct key in order of first appearance, then stably sorted by ``t_dat``,
        with the dtypes of ``TRANSACTION_DTYPES``.

    Notes
    -----
    The key columns are packed into one int64 group key (date and price by their factorised
    codes) and grouped with one stable integer sort, which is several times faster than a
    multi-column ``groupby`` at 32M rows. ``tests/data`` checks it against ``groupby``.
    """
    quantity = columns.pop("quantity")
    n = len(quantity)
    if n == 0:
        return pd.DataFrame(columns).assign(quantity=quantity).astype(TRANSACTION_DTYPES)

    # Dense codes per key column: the indices already are, the others are factorised.
    keys = []
    for name in ("t_dat", "price", "customer_idx", "article_idx", "sales_channel_id"):
        values = columns[name]
        if name in ("t_dat", "price"):
            key_codes, uniques = pd.factorize(values)  # exact equality of the parsed price
            keys.append((key_codes.astype(np.int64), len(uniques)))
        else:
            low = int(values.min())
            keys.append((values.astype(np.int64) - low, int(values.max()) - low + 1))

    # Pack them into one int64 (mixed radix), compressing when the next key would overflow.
    packed, cardinality = np.zeros(n, dtype=np.int64), 1
    for values, span in keys:
        if cardinality * span >= 2**62:
            uniques, packed = np.unique(packed, return_inverse=True)
            cardinality = len(uniques)
        packed = packed * span + values
        cardinality *= span

    # Group by sorting the packed key (a stable sort keeps each group's first row first).
    order = np.argsort(packed, kind="stable")
    sorted_keys = packed[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    totals = np.add.reduceat(quantity[order].astype(np.int64), starts)
    first_rows = order[starts]
    keep = np.argsort(first_rows, kind="stable")  # back to the order of first appearance
    first_rows, totals = first_rows[keep], totals[keep]

    merged = pd.DataFrame({name: values[first_rows] for name, values in columns.items()})
    merged["quantity"] = totals.astype(np.int64)
    if not merged["t_dat"].is_monotonic_increasing:
        merged = merged.iloc[np.argsort(merged["t_dat"].to_numpy(), kind="stable")]
    return merged.reset_index(drop=True).astype(TRANSACTION_DTYPES)


def _first_seen_order(codes: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """Category codes flagged in ``selected`` (bool array), ordered by first row using them."""
    _, first_rows = np.unique(codes, return_index=True)
    cats_present = codes[first_rows]
    keep = selected[cats_present]
    order = np.argsort(first_rows[keep], kind="stable")
    return cats_present[keep][order]


def _source_name(value, what: str) -> str:
    if isinstance(value, (str, Path)):
        return Path(value).name
    return what
