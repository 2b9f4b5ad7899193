"""The H&M table format: column names, which are required, and the article attributes.

The three tables are those of the H&M Personalized Fashion Recommendations data:
``articles``, ``customers`` and ``transactions_train``.
"""

from __future__ import annotations

from dataclasses import dataclass

ARTICLE_ID_WIDTH = 10
"""H&M article ids are 10-digit strings with a leading zero (``0108775015``)."""


@dataclass(frozen=True)
class Attribute:
    """One categorical attribute that becomes a node type of the knowledge graph.

    Attributes:
        node_type: node type name in the knowledge graph, e.g. ``"product_type"``.
        key_column: column whose value identifies the attribute node (a code where H&M has one).
        name_column: human-readable label column (may equal ``key_column``).
    """

    node_type: str
    key_column: str
    name_column: str

    @property
    def edge_type(self) -> str:
        return f"HAS_{self.node_type.upper()}"


ARTICLE_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("product", "product_code", "prod_name"),
    Attribute("product_type", "product_type_no", "product_type_name"),
    Attribute("product_group", "product_group_name", "product_group_name"),
    Attribute("graphical_appearance", "graphical_appearance_no", "graphical_appearance_name"),
    Attribute("colour_group", "colour_group_code", "colour_group_name"),
    Attribute("perceived_colour_value", "perceived_colour_value_id", "perceived_colour_value_name"),
    Attribute("perceived_colour_master", "perceived_colour_master_id", "perceived_colour_master_name"),
    Attribute("department", "department_no", "department_name"),
    Attribute("index", "index_code", "index_name"),
    Attribute("index_group", "index_group_no", "index_group_name"),
    Attribute("section", "section_no", "section_name"),
    Attribute("garment_group", "garment_group_no", "garment_group_name"),
)
"""Article attributes in the order the graph builder adds them."""

CUSTOMER_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("age_band", "age_band", "age_band"),
    Attribute("club_member_status", "club_member_status", "club_member_status"),
    Attribute("fashion_news_frequency", "fashion_news_frequency", "fashion_news_frequency"),
)
"""Customer attributes; ``age_band`` is derived from ``age`` at ingest (see ``age_band``)."""

ARTICLE_COLUMNS = ("article_id",) + tuple(
    dict.fromkeys(c for a in ARTICLE_ATTRIBUTES for c in (a.key_column, a.name_column))
) + ("detail_desc",)
REQUIRED_ARTICLE_COLUMNS = ("article_id",)

CUSTOMER_COLUMNS = (
    "customer_id", "FN", "Active", "club_member_status", "fashion_news_frequency", "age",
    "postal_code",
)
REQUIRED_CUSTOMER_COLUMNS = ("customer_id",)

TRANSACTION_COLUMNS = ("t_dat", "customer_id", "article_id", "price", "sales_channel_id")
REQUIRED_TRANSACTION_COLUMNS = ("t_dat", "customer_id", "article_id", "price")

AGE_BANDS = ((0, 20, "<20"), (20, 25, "20-24"), (25, 30, "25-29"), (30, 40, "30-39"),
             (40, 50, "40-49"), (50, 60, "50-59"), (60, 200, "60+"))
"""Half-open age intervals [lo, hi) and their labels; a missing age gets no band."""


def age_band(age: float | None) -> str | None:
    """Return the age band label of ``age`` (``None`` for a missing or impossible age).

    A missing value gets no attribute node: customers whose age is unknown are not alike.
    """
    if age is None or age != age:  # NaN check without numpy
        return None
    for lo, hi, label in AGE_BANDS:
        if lo <= age < hi:
            return label
    return None
