"""Everything the app and the API read from a run, behind one object: ``RunService``.

At start it opens (building when needed) the run's application database, loads the article table
and every method's saved recommendations into memory (``RecommendationIndex``), and picks an image
store. A recommendation request is then a dictionary lookup and an array slice; profile and
article pages run one small DuckDB query each. Nothing here trains or imports a model library.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fashiongraph.artifacts import RunDirectory
from fashiongraph.errors import ConfigError, UnknownIdError
from fashiongraph.serving.appdb import ensure_app_database
from fashiongraph.serving.images import (
    ArticleImage,
    ImageStore,
    LocalImageStore,
    NoImageStore,
    make_image_store,
    validate_article_id,
)
from fashiongraph.serving.index import RecommendationIndex
from fashiongraph.serving.models import (
    AlsoBought,
    ArticleDetail,
    ArticleSummary,
    CustomerProfile,
    Health,
    Purchase,
    RecommendationList,
    RecommendedArticle,
)

log = logging.getLogger(__name__)

MAX_K = 100
"""Longest list a request may ask for."""

METHOD_ORDER = ("popularity", "repurchase", "random_walk", "fastrp_knn", "graphsage")
"""Display order of the known methods; any other label (a blend, a variant) follows, sorted."""

DEFAULT_METHOD_PREFERENCE = ("blend", "graphsage", "fastrp_knn", "random_walk", "repurchase",
                             "popularity")
"""The API's default method: the manifest's ``best_method``, else the method with the best
offline MAP in the manifest, else the first of these present."""

BUNDLED_IMAGES = Path("data/hm_sample/images")
"""The bundled sample's images, relative to the repository root (the working directory)."""


@dataclass(frozen=True)
class Comparison:
    """Every method's list for one customer, and which articles several methods agree on.

    Attributes
    ----------
    lists : dict of method -> RecommendationList, in display order.
    agreement : dict of article_id -> methods whose own (non-fallback) slots hold it, only for
        articles held by two methods or more.
    """

    customer_id: str
    lists: dict[str, RecommendationList]
    agreement: dict[str, list[str]]


class RunService:
    """Read-only access to one run directory for the app and the API.

    Parameters
    ----------
    run_dir : str or Path
        A run directory (``manifest.json``, ``dataset/``, ``recommendations/``, ...).
    images : ImageStore, str, Path or None
        An image store, a folder in the H&M layout, or a URL template. ``None`` looks for the
        manifest's ``images`` entry, then ``<run>/images``, then the bundled sample's folder;
        without any, every article shows the placeholder.
    rebuild_db : bool
        Rebuild the application database even when it is up to date.
    """

    def __init__(self, run_dir: str | Path, *, images: ImageStore | str | Path | None = None,
                 rebuild_db: bool = False):
        import duckdb

        started = time.perf_counter()
        self.run = RunDirectory(run_dir)
        self.manifest = self.run.read_manifest()
        self.db_path = ensure_app_database(self.run, rebuild=rebuild_db)
        self._con = duckdb.connect(str(self.db_path), read_only=True)
        self._local = threading.local()

        meta = dict(self._con.execute("SELECT key, value FROM meta").fetchall())
        self.run_name = self.run.root.resolve().name
        self.cutoff = pd.Timestamp(meta["cutoff"]).date() if meta.get("cutoff") else None

        # Articles stay in memory: every recommendation tile reads them.
        self._articles = self._con.execute("SELECT * FROM articles ORDER BY article_idx").df()
        self._article_ids = pd.Index(self._articles["article_id"].to_numpy(object), dtype=object)
        self._summaries: list[ArticleSummary | None] = [None] * len(self._articles)
        # Object-dtype indexes: get_loc on them is a plain hash lookup (a fraction of a µs).
        self._customer_ids = pd.Index(self._con.execute(
            "SELECT customer_id FROM customers ORDER BY customer_idx").df()["customer_id"]
            .to_numpy(object), dtype=object)
        self.popular = self._con.execute(
            "SELECT article_idx FROM popular ORDER BY rank").df()["article_idx"].to_numpy(np.int64)

        self.indexes = self._load_indexes()
        self.methods = list(self.indexes)
        self.default_method = self._pick_default_method()
        self.image_store = images if isinstance(images, ImageStore) else self._image_store(images)
        log.info("serving run %s: %d customers, %d articles, methods %s, images from %s "
                 "(ready in %.2fs)", self.run.root, self.num_customers, self.num_articles,
                 self.methods, self.image_store.describe(), time.perf_counter() - started)

    # ------------------------------------------------------------------ setup
    def _load_indexes(self) -> dict[str, RecommendationIndex]:
        labels = [r[0] for r in self._con.execute(
            "SELECT DISTINCT method FROM recommendations").fetchall()]
        known = [m for m in METHOD_ORDER if m in labels]
        ordered = known + sorted(set(labels) - set(known))
        indexes = {}
        for label in ordered:
            cols = self._con.execute(
                "SELECT customer_idx, rank, article_idx, coalesce(score, 'NaN'::FLOAT) AS score, "
                "from_model FROM recommendations WHERE method = ?", [label]).fetchnumpy()
            indexes[label] = RecommendationIndex.from_arrays(
                label, self.num_customers, customer_idx=cols["customer_idx"], rank=cols["rank"],
                article_idx=cols["article_idx"], scores=cols["score"],
                from_model=cols["from_model"])
        if not indexes:
            log.warning("%s has no saved recommendations; every list is the popularity fallback",
                        self.run.recommendations_dir)
        return indexes

    def _pick_default_method(self) -> str:
        best = self.manifest.get("best_method")
        if best in self.indexes:
            return best
        # The pipeline's manifest lists each method with its offline MAP: serve the best.
        scored = [(m.get("map"), m.get("label")) for m in self.manifest.get("methods", [])
                  if isinstance(m, dict) and m.get("label") in self.indexes
                  and isinstance(m.get("map"), (int, float))]
        if scored:
            return max(scored)[1]
        for method in DEFAULT_METHOD_PREFERENCE:
            if method in self.indexes:
                return method
        return self.methods[0] if self.methods else "popularity"

    def _image_store(self, images: str | Path | None) -> ImageStore:
        if images is not None:
            return make_image_store(images)
        configured = self.manifest.get("images")
        if configured:
            text = str(configured)
            if text.startswith(("http://", "https://")):
                return make_image_store(text)
            for base in (self.run.root, Path.cwd()):
                if (base / text).is_dir():
                    return LocalImageStore(base / text)
            log.warning("manifest images folder %s not found; trying the defaults", text)
        for folder in (self.run.root / "images", BUNDLED_IMAGES):
            if folder.is_dir():
                return LocalImageStore(folder)
        log.warning("no image folder found for %s; every article shows the placeholder",
                    self.run.root)
        return NoImageStore()

    def _cursor(self):
        """A DuckDB cursor of this thread (connections must not be shared across threads)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._con.cursor()
        return cursor

    # ------------------------------------------------------------------ sizes
    @property
    def num_customers(self) -> int:
        return len(self._customer_ids)

    @property
    def num_articles(self) -> int:
        return len(self._article_ids)

    # ------------------------------------------------------------------ ids
    def customer_idx(self, customer_id: str) -> int:
        """The row of ``customer_id``; ``UnknownIdError`` when the run does not know it."""
        pos = _position(self._customer_ids, customer_id)
        if pos < 0:
            raise UnknownIdError(
                f"customer_id {customer_id!r}: not a customer of run {self.run_name!r} "
                f"({self.num_customers} customers; search them with GET /customers?prefix=...)"
            )
        return int(pos)

    def article_idx(self, article_id: str) -> int:
        """The row of a 10-digit ``article_id``; ``UnknownIdError`` when not in the catalogue."""
        validate_article_id(article_id)
        pos = _position(self._article_ids, article_id)
        if pos < 0:
            raise UnknownIdError(f"article_id {article_id!r}: not in the catalogue of run "
                                 f"{self.run_name!r} ({self.num_articles} articles)")
        return int(pos)

    def summary(self, article_idx: int) -> ArticleSummary:
        """The tile content of an article (cached: articles do not change while serving)."""
        cached = self._summaries[article_idx]
        if cached is None:
            row = self._articles.iloc[article_idx]
            cached = ArticleSummary(
                article_id=row["article_id"], name=_text(row["name"]),
                product_type=_text(row["product_type"]),
                product_group=_text(row["product_group"]), colour=_text(row["colour"]),
                price_band=row["price_band"],
                image_url=f"/articles/{row['article_id']}/image")
            self._summaries[article_idx] = cached
        return cached

    # ------------------------------------------------------------------ recommendations
    def recommend(self, customer_id: str, method: str | None = None, k: int = 12
                  ) -> RecommendationList:
        """The saved top-``k`` of ``method`` for a customer, filled from popularity if short.

        A customer without saved rows (no history before the cutoff, or not scored by the
        pipeline) gets the run's popularity list, with ``fallback`` true and every slot's
        ``from_model`` false.
        """
        method = self.default_method if method is None else method
        if method not in self.indexes:
            raise ConfigError(f"method must be one of {self.methods} (got {method!r})")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
            raise ConfigError(f"k must be an integer in 1..{MAX_K} (got {k!r})")
        idx = self.customer_idx(customer_id)

        # The slots come from our own checked index and cached summaries: construct the result
        # objects without re-validating them (this is the API's hot path).
        articles, scores, from_model = self.indexes[method].lookup(idx, k)
        items = [
            RecommendedArticle.model_construct(rank=rank, article=self.summary(a),
                                               score=None if math.isnan(s) else s, from_model=m)
            for rank, (a, s, m) in enumerate(
                zip(articles.tolist(), scores.tolist(), from_model.tolist()), start=1)
        ]
        num_from_model = sum(item.from_model for item in items)

        # Short or missing lists are filled from the cold-start list, never passed off as the
        # method's own work.
        if len(items) < k:
            seen = set(articles.tolist())
            for a in self.popular[:k + len(items)].tolist():
                if len(items) == k:
                    break
                if a not in seen:
                    items.append(RecommendedArticle.model_construct(
                        rank=len(items) + 1, article=self.summary(a), score=None,
                        from_model=False))
        return RecommendationList.model_construct(
            customer_id=customer_id, method=method, k=k, fallback=num_from_model == 0,
            num_from_model=num_from_model, items=items)

    def compare(self, customer_id: str, k: int = 12) -> Comparison:
        """Every method's list for the customer, with the articles two or more methods share."""
        lists = {m: self.recommend(customer_id, m, k) for m in self.methods}
        holders: dict[str, list[str]] = {}
        for method, rec_list in lists.items():
            for item in rec_list.items:
                # A fallback slot is popularity in disguise; agreement there means nothing.
                if item.from_model:
                    holders.setdefault(item.article.article_id, []).append(method)
        agreement = {a: ms for a, ms in holders.items() if len(ms) >= 2}
        return Comparison(customer_id, lists, agreement)

    # ------------------------------------------------------------------ pages
    def customer(self, customer_id: str, recent: int = 12) -> CustomerProfile:
        """Content and the ``recent`` latest purchases before the cutoff."""
        if not 0 <= recent <= MAX_K:
            raise ConfigError(f"recent must be in 0..{MAX_K} (got {recent!r})")
        idx = self.customer_idx(customer_id)
        cur = self._cursor()
        values = cur.execute("SELECT * FROM customers WHERE customer_idx = ?", [idx]).fetchone()
        row = dict(zip((d[0] for d in cur.description), values))
        history = cur.execute(
            "SELECT t_dat, article_idx, price, quantity FROM transactions "
            "WHERE customer_idx = ? AND NOT after_cutoff "
            "ORDER BY t_dat DESC, article_idx LIMIT ?", [idx, recent]).fetchall()
        return CustomerProfile(
            customer_id=customer_id,
            club_member_status=_text(row["club_member_status"]),
            fashion_news_frequency=_text(row["fashion_news_frequency"]),
            age=None if pd.isna(row["age"]) else float(row["age"]),
            age_band=_text(row["age_band"]), postal_code=_text(row["postal_code"]),
            purchase_count=int(row["purchase_count"]), num_articles=int(row["num_articles"]),
            first_purchase=_date(row["first_purchase"]), last_purchase=_date(row["last_purchase"]),
            has_history=int(row["purchase_count"]) > 0,
            recent_purchases=[
                Purchase(t_dat=t.date(), article=self.summary(a), price=float(p), quantity=q)
                for t, a, p, q in history
            ],
        )

    def heldout_article_ids(self, customer_id: str) -> set[str]:
        """Articles the customer bought on or after the cutoff (the future no model saw)."""
        idx = self.customer_idx(customer_id)
        rows = self._cursor().execute(
            "SELECT DISTINCT article_idx FROM transactions WHERE customer_idx = ? AND after_cutoff",
            [idx]).fetchall()
        return {self.summary(a).article_id for (a,) in rows}

    def article(self, article_id: str, neighbours: int = 10) -> ArticleDetail:
        """All attributes of an article and its ``neighbours`` most co-purchased articles."""
        if not 0 <= neighbours <= MAX_K:
            raise ConfigError(f"neighbours must be in 0..{MAX_K} (got {neighbours!r})")
        idx = self.article_idx(article_id)
        row = self._articles.iloc[idx]
        base = self.summary(idx).model_dump()
        return ArticleDetail(
            **base,
            perceived_colour=_text(row["perceived_colour"]),
            graphical_appearance=_text(row["graphical_appearance"]),
            department=_text(row["department"]), index_name=_text(row["index_name"]),
            index_group=_text(row["index_group"]), section=_text(row["section"]),
            garment_group=_text(row["garment_group"]), description=_text(row["description"]),
            mean_price=None if pd.isna(row["mean_price"]) else float(row["mean_price"]),
            num_sold=int(row["num_sold"]),
            also_bought=self.also_bought(idx, neighbours),
        )

    def also_bought(self, article_idx: int, n: int = 10) -> list[AlsoBought]:
        """Articles most often bought by the customers who bought ``article_idx`` (history only).

        Counts distinct customers per neighbour; ties go to the article sold more often.
        """
        if n == 0:
            return []
        rows = self._cursor().execute(
            """
            WITH buyers AS (
                SELECT DISTINCT customer_idx FROM transactions
                WHERE article_idx = $article AND NOT after_cutoff)
            SELECT t.article_idx, count(DISTINCT t.customer_idx) AS customers
            FROM transactions t JOIN buyers USING (customer_idx)
            JOIN articles a ON a.article_idx = t.article_idx
            WHERE t.article_idx <> $article AND NOT t.after_cutoff
            GROUP BY t.article_idx, a.num_sold
            ORDER BY customers DESC, a.num_sold DESC, t.article_idx
            LIMIT $n
            """, {"article": article_idx, "n": n}).fetchall()
        return [AlsoBought(article=self.summary(a), customers=c) for a, c in rows]

    def image(self, article_id: str) -> ArticleImage:
        """The article's image or the placeholder; ``UnknownIdError`` outside the catalogue."""
        self.article_idx(article_id)
        return self.image_store.image(article_id)

    def health(self) -> Health:
        return Health(
            status="ok", run=self.run_name, cutoff=self.cutoff, methods=self.methods,
            default_method=self.default_method, num_customers=self.num_customers,
            num_articles=self.num_articles,
            customers_with_recommendations={m: ix.num_customers_covered
                                            for m, ix in self.indexes.items()},
            image_store=self.image_store.describe(),
        )

    # ------------------------------------------------------------------ finding customers
    def search_customers(self, prefix: str, limit: int = 20) -> list[tuple[str, int]]:
        """(customer_id, purchase_count) of customers whose id starts with ``prefix``."""
        if not 1 <= limit <= MAX_K:
            raise ConfigError(f"limit must be in 1..{MAX_K} (got {limit!r})")
        return self._cursor().execute(
            "SELECT customer_id, purchase_count FROM customers "
            "WHERE starts_with(customer_id, ?) ORDER BY customer_id LIMIT ?",
            [prefix.strip(), limit]).fetchall()

    def interesting_customers(self, n: int = 3) -> dict[str, list[tuple[str, int]]]:
        """A few customers worth a look: most purchases, few purchases, none before the cutoff.

        Among the few-purchase customers, those who bought again after the cutoff come first
        (their held-out purchases show whether a method would have hit).
        """
        queries = {
            "many purchases": "WHERE purchase_count > 0 ORDER BY purchase_count DESC, customer_id",
            "few purchases": "WHERE purchase_count BETWEEN 1 AND 3 "
                             "ORDER BY heldout_count DESC, customer_id",
            "no purchases": "WHERE purchase_count = 0 ORDER BY heldout_count DESC, customer_id",
        }
        cur = self._cursor()
        return {label: cur.execute(f"SELECT customer_id, purchase_count FROM customers {where} "
                                   "LIMIT ?", [n]).fetchall()
                for label, where in queries.items()}

    def random_customer(self, rng: np.random.Generator) -> str:
        """A customer id drawn uniformly."""
        return str(self._customer_ids[int(rng.integers(self.num_customers))])

    # ------------------------------------------------------------------ report
    def report(self) -> tuple[str | None, list[Path]]:
        """The run's ``report.md`` text (``None`` when absent) and its PNG plots, sorted."""
        report_dir = self.run.report_dir
        md = report_dir / "report.md"
        text = md.read_text() if md.exists() else None
        plots = sorted(report_dir.glob("**/*.png")) if report_dir.exists() else []
        return text, plots


def _position(index: pd.Index, key: str) -> int:
    """Position of ``key`` in a unique ``index``, -1 when absent."""
    try:
        return int(index.get_loc(key))
    except (KeyError, TypeError):
        return -1


def _text(value) -> str | None:
    """A table cell as text, ``None`` for a missing value."""
    return None if value is None or pd.isna(value) else str(value)


def _date(value):
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()
