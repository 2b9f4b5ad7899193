"""The Streamlit app in a real browser: Debian's chromium, driven by Playwright.

``fashiongraph app`` runs on a loopback port; headless chromium picks a customer by id prefix and
checks that every method's column shows the saved articles with images and names. Screenshots go
to the test's tmp_path and are copied to ``runs/test-artifacts/`` for people to look at.

Under ``CI=true`` this test must run: a missing chromium fails it. Elsewhere it is skipped, with
the reason, when chromium is missing (``make browser-deps`` installs it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
from conftest import ARTIFACTS
from servers import fashiongraph_process, free_port

from fashiongraph.serving.streamlit_app import slug

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
K = 6  # the app's default number of articles per method

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install it with `make browser-deps` (apt-get chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def app_url(run_dir, tmp_path_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("app") / "app.log"
    with fashiongraph_process(["app", "--run", str(run_dir), "--port", str(port)],
                              f"{base}/_stcore/health", log, timeout=120):
        yield base


@pytest.fixture
def page(chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(chromium), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1800, "height": 3200})
        # Only loopback may be reached: anything else is recorded and refused.
        outside: list[str] = []

        def guard(route):
            host = urlparse(route.request.url).hostname
            if route.request.url.startswith(("data:", "blob:")) or host in (
                    "127.0.0.1", "localhost"):
                return route.continue_()
            outside.append(route.request.url)
            return route.abort()

        context.route("**/*", guard)
        browser_page = context.new_page()
        browser_page.set_default_timeout(60_000)
        yield browser_page
        context.close()
        assert outside == [], f"the app asked for hosts other than loopback: {outside}"


def save_screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    # Streamlit scrolls inside its main block, so a full-page shot stops at the viewport: grow
    # the viewport to the content first.
    height = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": 1800, "height": min(int(height) + 40, 12_000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, ARTIFACTS / name)
    return path


def pick_customer(service, history) -> str:
    """A customer other than the app's default, with a unique 8-character prefix.

    Preferred: one who bought in the month before the cutoff (the bundled images cover those
    articles) and again after it, so the screenshot shows images and held-out purchases.
    """
    default = service.interesting_customers(1)["many purchases"][0][0]
    last = history.groupby("customer_id")["t_dat"].max()
    recent = last[last >= pd.Timestamp(service.cutoff) - pd.Timedelta(days=21)].index
    ranked = sorted(recent, key=lambda c: (-len(service.heldout_article_ids(c)), c))
    for customer_id in ranked + sorted(history["customer_id"].unique()):
        if customer_id != default and len(service.search_customers(customer_id[:8], 2)) == 1:
            return customer_id
    raise AssertionError("no customer with a unique prefix in the run")


def images_loaded(locator) -> list[bool]:
    """Whether each <img> under ``locator`` finished loading with a non-empty picture."""
    return locator.locator("img").evaluate_all(
        "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")


def test_pick_a_customer_and_compare_every_method(page, app_url, service, history, tmp_path):
    customer_id = pick_customer(service, history)
    page.goto(app_url)
    page.locator(".st-key-profile").wait_for()

    # Pick the customer by id prefix: a unique match is chosen at once.
    prefix_box = page.get_by_label("Customer id prefix")
    prefix_box.fill(customer_id[:8])
    prefix_box.press("Enter")
    page.locator(".st-key-profile").get_by_text(customer_id, exact=True).wait_for()

    for method in service.methods:
        column = page.locator(f".st-key-method-{slug(method)}")
        column.get_by_text(method.partition("[")[0], exact=True).first.wait_for()
        expected = service.recommend(customer_id, method, K)
        for item in expected.items:
            name = f"{item.rank}. {item.article.name}"
            column.get_by_text(name, exact=True).first.wait_for()
        loaded = images_loaded(column)
        assert len(loaded) == K, f"{method}: {len(loaded)} images for {K} articles"
        page.wait_for_function(
            "sel => [...document.querySelectorAll(sel + ' img')]"
            ".every(i => i.complete && i.naturalWidth > 0)", arg=f".st-key-method-{slug(method)}")

    # The recent purchases of the profile show images too.
    profile = page.locator(".st-key-profile")
    recent = service.customer(customer_id, 8).recent_purchases
    assert len(images_loaded(profile)) == len(recent)
    assert page.locator("[data-testid='stException']").count() == 0
    shot = save_screenshot(page, tmp_path, "app-compare.png")
    assert shot.stat().st_size > 50_000


def test_article_page_and_report_page(page, app_url, service, history, tmp_path):
    buyers = history.groupby("article_id")["customer_id"].nunique()
    article_id = str(buyers.sort_values(ascending=False, kind="stable").index[0])
    detail = service.article(article_id, 12)

    page.goto(f"{app_url}/article?article={article_id}")
    page.get_by_role("heading", name=detail.name).wait_for()
    page.get_by_text("Customers also bought").wait_for()
    for neighbour in detail.also_bought[:6]:
        page.get_by_text(neighbour.article.name, exact=True).first.wait_for()
    assert all(images_loaded(page.locator("[data-testid='stMain']")))
    save_screenshot(page, tmp_path, "app-article.png")

    page.goto(f"{app_url}/report")
    page.get_by_role("heading", name="Evaluation report").wait_for()
    page.get_by_text("MAP@12", exact=False).first.wait_for()
    plots = page.locator("[data-testid='stMain'] img")
    plots.first.wait_for()
    assert all(images_loaded(page.locator("[data-testid='stMain']")))
    save_screenshot(page, tmp_path, "app-report.png")
