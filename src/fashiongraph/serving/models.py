"""Typed results of the serving layer: the API's response models, also used by the app."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ArticleSummary(_Frozen):
    """What a product tile shows."""

    article_id: str = Field(description="10-digit H&M article id", examples=["0706016001"])
    name: str | None = Field(description="product name (prod_name)")
    product_type: str | None
    product_group: str | None
    colour: str | None = Field(description="colour group name")
    price_band: str = Field(description="tertile of the article's mean price: low, mid, high; "
                                        "unknown when never sold")
    image_url: str = Field(description="path of the image endpoint (placeholder when missing)")


class AlsoBought(_Frozen):
    """A customers-also-bought neighbour of an article."""

    article: ArticleSummary
    customers: int = Field(description="customers who bought both before the run's cutoff")


class ArticleDetail(ArticleSummary):
    """Every attribute of an article, with its co-purchase neighbours."""

    perceived_colour: str | None
    graphical_appearance: str | None
    department: str | None
    index_name: str | None
    index_group: str | None
    section: str | None
    garment_group: str | None
    description: str | None
    mean_price: float | None = Field(description="mean price paid (H&M's scaled prices)")
    num_sold: int = Field(description="units sold before the run's cutoff")
    also_bought: list[AlsoBought]


class RecommendedArticle(_Frozen):
    rank: int = Field(ge=1)
    article: ArticleSummary
    score: float | None = Field(description="the method's score; null for fallback slots")
    from_model: bool = Field(description="false when the slot was filled from popularity")


class RecommendationList(_Frozen):
    """One method's ranked articles for one customer."""

    customer_id: str
    method: str
    k: int
    fallback: bool = Field(description="true when no slot came from the method itself (e.g. a "
                                       "customer without history gets the popularity list)")
    num_from_model: int
    items: list[RecommendedArticle]


class Purchase(_Frozen):
    t_dat: dt.date
    article: ArticleSummary
    price: float
    quantity: int


class CustomerProfile(_Frozen):
    """A customer's content and recent history (purchases before the run's cutoff)."""

    customer_id: str
    club_member_status: str | None
    fashion_news_frequency: str | None
    age: float | None
    age_band: str | None
    postal_code: str | None
    purchase_count: int = Field(description="units bought before the cutoff")
    num_articles: int = Field(description="distinct articles bought before the cutoff")
    first_purchase: dt.date | None
    last_purchase: dt.date | None
    has_history: bool
    recent_purchases: list[Purchase]


class Health(_Frozen):
    status: str
    run: str
    cutoff: dt.date | None
    methods: list[str]
    default_method: str
    num_customers: int
    num_articles: int
    customers_with_recommendations: dict[str, int]
    image_store: str


class ErrorBody(_Frozen):
    """Body of a 404: what was not found and why."""

    error: str = Field(examples=["unknown_customer"])
    message: str
