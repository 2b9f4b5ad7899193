"""The Streamlit app: pick a customer, see every method's recommendations side by side.

Started by ``fashiongraph app --run DIR`` (which runs ``streamlit run`` on this file with
``-- --run DIR [--images SOURCE]``). Three pages:

- Compare: pick a customer (id prefix, an interesting one, or a random one); their profile and
  recent purchases; one column per method with image, name, product type, colour, price band and
  score; articles several methods agree on and articles bought after the cutoff are marked.
- Article: attributes, image and customers-also-bought neighbours (``?article=<id>``).
- Report: the run's evaluation report and plots.

Everything is read from the run through ``RunService``; nothing is trained here.
"""

from __future__ import annotations

import argparse
import re
import sys

import numpy as np
import streamlit as st

from fashiongraph.errors import FashionGraphError
from fashiongraph.serving.models import ArticleSummary, RecommendedArticle
from fashiongraph.serving.service import RunService

K_CHOICES = (4, 6, 8, 12)
RECENT_PURCHASES = 8

PAGES: dict[str, st.Page] = {}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fashiongraph app")
    parser.add_argument("--run", required=True)
    parser.add_argument("--images", default=None)
    return parser.parse_args(argv)


@st.cache_resource(show_spinner="Loading the run ...")
def load_service(run: str, images: str | None) -> RunService:
    return RunService(run, images=images)


def service() -> RunService:
    args = parse_args(sys.argv[1:])
    return load_service(args.run, args.images)


@st.cache_data(max_entries=4096, show_spinner=False)
def image_of(article_id: str) -> bytes | str:
    """JPEG bytes, or the placeholder SVG text (``st.image`` takes either)."""
    image = service().image_store.image(article_id)
    return image.content.decode() if image.placeholder else image.content


def slug(method: str) -> str:
    """A method label usable in a CSS class (``repurchase[keep_purchased]`` -> ``repurchase-keep_purchased-``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", method)


def short(customer_id: str) -> str:
    return f"{customer_id[:12]}…" if len(customer_id) > 13 else customer_id


# ---------------------------------------------------------------------- customer choice
def _choose(customer_id: str | None) -> None:
    if customer_id:
        st.session_state["customer_id"] = customer_id
        st.query_params["customer"] = customer_id


def _on_prefix() -> None:
    prefix = st.session_state.get("prefix", "").strip()
    matches = service().search_customers(prefix, 20) if prefix else []
    st.session_state["matches"] = matches
    if len(matches) == 1:
        _choose(matches[0][0])


def _on_match() -> None:
    _choose(st.session_state.get("match"))


def _on_interesting() -> None:
    choice = st.session_state.get("interesting")
    _choose(choice.split(" ", 1)[0] if choice else None)


def _on_random() -> None:
    rng = np.random.default_rng()
    _choose(service().random_customer(rng))


def customer_picker(svc: RunService) -> str:
    """The three ways to pick a customer; returns the chosen id."""
    if "customer_id" not in st.session_state:
        wanted = st.query_params.get("customer")
        try:
            _ = svc.customer_idx(wanted) if wanted else None
        except FashionGraphError:
            wanted = None
        interesting = svc.interesting_customers(1)["many purchases"]
        _choose(wanted or (interesting[0][0] if interesting else svc.random_customer(
            np.random.default_rng(0))))

    by_prefix, by_list, by_chance = st.columns([3, 3, 1], vertical_alignment="bottom")
    with by_prefix:
        st.text_input("Customer id prefix", key="prefix", on_change=_on_prefix,
                      placeholder="e.g. 4133 (press Enter)")
        matches = st.session_state.get("matches", [])
        if len(matches) > 1:
            st.selectbox("Matching customers", [m for m, _ in matches], key="match",
                         index=None, on_change=_on_match,
                         format_func=lambda c: f"{short(c)} ({dict(matches)[c]} purchases)")
        elif st.session_state.get("prefix") and not matches:
            st.warning(f"No customer id starts with {st.session_state['prefix']!r}")
    with by_list:
        options = [f"{cid} · {group} ({count} purchases)"
                   for group, rows in svc.interesting_customers(3).items()
                   for cid, count in rows]
        st.selectbox("Interesting customers", options, index=None, key="interesting",
                     on_change=_on_interesting, placeholder="many / few / no purchases",
                     format_func=lambda o: f"{short(o.split(' ', 1)[0])} {o.split(' ', 1)[1]}")
    with by_chance:
        st.button("Random customer", on_click=_on_random, key="random")
    return st.session_state["customer_id"]


# ---------------------------------------------------------------------- tiles
def article_caption(article: ArticleSummary) -> str:
    return " · ".join(x for x in (article.product_type, article.colour,
                                  f"{article.price_band} price") if x)


def tile(item: RecommendedArticle, agreement: dict[str, list[str]], heldout: set[str], *,
         stacked: bool) -> None:
    """One recommended article: image, name, attributes, score and marks.

    ``stacked`` puts the image above the text (narrow columns, many methods); otherwise the
    image sits beside it.
    """
    article = item.article
    if stacked:
        picture = text = st.container()
    else:
        picture, text = st.columns([2, 3], gap="small")
    with picture:
        st.image(image_of(article.article_id), width="stretch", alt=article.name or "")
    with text:
        st.markdown(f"**{item.rank}. {article.name or article.article_id}**")
        st.caption(article_caption(article))
        score = "popularity fallback" if not item.from_model else (
            "score —" if item.score is None else f"score {item.score:.4g}")
        st.caption(score)
        if article.article_id in agreement:
            methods = agreement[article.article_id]
            st.badge(f"{len(methods)} agree", icon=":material/handshake:", color="green",
                     help=f"chosen by {', '.join(methods)}")
        if article.article_id in heldout:
            st.badge("bought later", icon=":material/check_circle:", color="blue",
                     help="the customer bought it on or after the cutoff")
        st.page_link(PAGES["article"], label="details", icon=":material/open_in_new:",
                     query_params={"article": article.article_id})


def method_heading(method: str, rec_list) -> None:
    """The method's name; its variant (``[keep_purchased]``) and list origin as a caption."""
    name, _, variant = method.partition("[")
    st.subheader(name)
    variant = variant.rstrip("]").replace("_", " ")
    if rec_list.fallback:
        origin = ":orange[popularity fallback: no list of its own for this customer]"
    else:
        origin = f"{rec_list.num_from_model} of {len(rec_list.items)} from the method"
    st.caption(" · ".join(x for x in (variant, origin) if x))


# ---------------------------------------------------------------------- pages
def compare_page() -> None:
    svc = service()
    st.title("Compare recommenders")
    st.caption(f"Run **{svc.run_name}** · cutoff {svc.cutoff} · {svc.num_customers:,} customers "
               f"· {svc.num_articles:,} articles · methods: {', '.join(svc.methods)}")
    customer_id = customer_picker(svc)
    k = st.segmented_control("Articles per method", K_CHOICES, default=6, key="k") or 6

    profile = svc.customer(customer_id, RECENT_PURCHASES)
    heldout = svc.heldout_article_ids(customer_id)
    with st.container(key="profile", border=True):
        st.subheader(f"Customer {short(customer_id)}")
        st.caption(customer_id)
        facts = st.columns(6)
        facts[0].metric("Club status", profile.club_member_status or "—")
        facts[1].metric("Fashion news", profile.fashion_news_frequency or "—")
        facts[2].metric("Age", "—" if profile.age is None else f"{profile.age:.0f}")
        facts[3].metric("Postal code", (profile.postal_code or "—")[:8],
                        help=profile.postal_code)
        facts[4].metric("Purchases", profile.purchase_count,
                        help=f"units bought before the cutoff ({profile.num_articles} articles)")
        facts[5].metric("Bought after cutoff", len(heldout),
                        help="distinct articles bought in the held-out period")
        if profile.recent_purchases:
            st.markdown(f"**Recent purchases** (last {profile.last_purchase})")
            row = st.columns(RECENT_PURCHASES)
            for col, purchase in zip(row, profile.recent_purchases):
                with col:
                    st.image(image_of(purchase.article.article_id), width="stretch")
                    st.caption(f"{purchase.article.name} · {purchase.t_dat}")
        else:
            st.info("No purchases before the cutoff: each method falls back to the run's "
                    "popularity list.")

    comparison = svc.compare(customer_id, k)
    st.markdown("**Recommendations** · :green-badge[:material/handshake: N agree] N methods chose "
                "the article themselves · :blue-badge[:material/check_circle: bought later] the "
                "customer bought it on or after the cutoff (the held-out period)")
    columns = st.columns(max(len(comparison.lists), 1), gap="small")
    stacked = len(comparison.lists) > 3
    for col, (method, rec_list) in zip(columns, comparison.lists.items()):
        with col, st.container(key=f"method-{slug(method)}", border=True):
            method_heading(method, rec_list)
            for item in rec_list.items:
                tile(item, comparison.agreement, heldout, stacked=stacked)


def article_page() -> None:
    svc = service()
    st.title("Article")
    wanted = st.query_params.get("article", "")
    article_id = st.text_input("Article id (10 digits)", value=wanted, key="article_input")
    if customer := st.session_state.get("customer_id"):
        st.page_link(PAGES["compare"], label=f"back to customer {short(customer)}",
                     icon=":material/arrow_back:", query_params={"customer": customer})
    if not article_id:
        st.info("Open an article from a recommendation tile, or type its id.")
        return
    try:
        detail = svc.article(article_id.strip(), neighbours=12)
    except FashionGraphError as exc:
        st.error(str(exc))
        return

    picture, facts = st.columns([1, 2])
    with picture:
        st.image(image_of(detail.article_id), width="stretch")
    with facts:
        st.subheader(detail.name or detail.article_id)
        st.caption(detail.article_id)
        attributes = {
            "product type": detail.product_type, "product group": detail.product_group,
            "colour": detail.colour, "perceived colour": detail.perceived_colour,
            "appearance": detail.graphical_appearance, "department": detail.department,
            "index": detail.index_name, "index group": detail.index_group,
            "section": detail.section, "garment group": detail.garment_group,
            "price band": detail.price_band,
            "mean price": "—" if detail.mean_price is None else f"{detail.mean_price:.4f}",
            "units sold before cutoff": str(detail.num_sold),
        }
        st.table({"attribute": list(attributes), "value": [v or "—" for v in
                                                         attributes.values()]})
        if detail.description:
            st.write(detail.description)

    st.subheader("Customers also bought")
    if not detail.also_bought:
        st.info("Nobody else bought this article's customers' other articles before the cutoff.")
        return
    per_row = 6
    for lo in range(0, len(detail.also_bought), per_row):
        row = st.columns(per_row)
        for col, neighbour in zip(row, detail.also_bought[lo:lo + per_row]):
            with col:
                st.image(image_of(neighbour.article.article_id), width="stretch")
                st.markdown(f"**{neighbour.article.name}**")
                st.caption(f"{article_caption(neighbour.article)} · "
                           f"{neighbour.customers} customer(s)")
                st.page_link(PAGES["article"], label="details", icon=":material/open_in_new:",
                             query_params={"article": neighbour.article.article_id})


def report_page() -> None:
    svc = service()
    st.title("Evaluation report")
    text, plots = svc.report()
    if text is None and not plots:
        st.info(f"This run has no report ({svc.run.report_dir} is empty).")
        return
    shown = set()
    # Markdown image references point at files next to report.md; show those files in place.
    for chunk in re.split(r"(!\[[^\]]*\]\([^)]+\))", text or ""):
        ref = re.fullmatch(r"!\[([^\]]*)\]\(([^)]+)\)", chunk)
        if ref is None:
            if chunk.strip():
                st.markdown(chunk)
            continue
        path = (svc.run.report_dir / ref.group(2)).resolve()
        if path.is_file() and path.is_relative_to(svc.run.report_dir.resolve()):
            st.image(str(path), caption=ref.group(1) or path.name)
            shown.add(path)
    for plot in plots:
        if plot.resolve() not in shown:
            st.image(str(plot), caption=plot.stem.replace("_", " "))


def main() -> None:
    # No page or page_icon icons: Streamlit fetches an icon favicon from fonts.gstatic.com,
    # and the app must reach no host but loopback.
    st.set_page_config(page_title="fashiongraph",
                       layout="wide")
    try:
        svc = service()
    except FashionGraphError as exc:
        st.error(f"Cannot open the run: {exc}")
        st.stop()
    PAGES["compare"] = st.Page(compare_page, title="Compare recommenders", url_path="compare",
                               default=True)
    PAGES["article"] = st.Page(article_page, title="Article", url_path="article")
    PAGES["report"] = st.Page(report_page, title="Evaluation report", url_path="report")
    page = st.navigation(list(PAGES.values()))
    with st.sidebar:
        st.caption(f"run `{svc.run.root}`")
        st.caption(f"images: {svc.image_store.describe()}")
    page.run()


if __name__ == "__main__":
    main()
