"""The REST API on a real pipeline run of the bundled sample, through FastAPI's TestClient."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from fashiongraph.artifacts import RunDirectory
from fashiongraph.serving.service import MAX_K


def saved_list(run_dir, method: str, customer_idx: int) -> pd.DataFrame:
    """The rows the pipeline saved for one customer and method, best first."""
    recs = RunDirectory(run_dir).load_recommendations(method)
    return recs[recs["customer_idx"] == customer_idx].sort_values("rank")


def test_health_lists_the_run_and_its_methods(client, run_dir, dataset):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert set(body["methods"]) == set(RunDirectory(run_dir).recommendation_labels())
    assert body["methods"][:2] == ["popularity", "repurchase"]
    assert body["num_customers"] == dataset.num_customers
    assert body["num_articles"] == dataset.num_articles
    assert body["cutoff"] == RunDirectory(run_dir).read_manifest()["cutoff"]
    assert body["default_method"] in body["methods"]
    assert body["image_store"].startswith("local folder")


def test_default_method_is_the_best_by_offline_map(client, run_dir):
    scored = {m["label"]: m["map"] for m in RunDirectory(run_dir).read_manifest()["methods"]}
    assert client.get("/health").json()["default_method"] == max(scored, key=scored.get)


@pytest.mark.parametrize("k", [1, 5, 12])
def test_recommendations_are_the_saved_lists(client, run_dir, dataset, customer_with_history, k):
    idx = int(dataset.customer_index([customer_with_history])[0])
    for method in client.get("/health").json()["methods"]:
        response = client.get(f"/customers/{customer_with_history}/recommendations",
                              params={"method": method, "k": k})
        assert response.status_code == 200, response.text
        body = response.json()
        saved = saved_list(run_dir, method, idx).head(k)
        articles = dataset.articles["article_id"].to_numpy()[saved["article_idx"]]
        assert [i["article"]["article_id"] for i in body["items"]] == list(articles)
        assert [i["rank"] for i in body["items"]] == list(range(1, k + 1))
        assert [i["from_model"] for i in body["items"]] == saved["from_model"].tolist()
        assert body["num_from_model"] == int(saved["from_model"].sum())
        assert body["fallback"] == (not saved["from_model"].any())
        for item, score in zip(body["items"], saved["score"]):
            assert (item["score"] is None) == bool(np.isnan(score))
            if item["score"] is not None:
                assert item["score"] == pytest.approx(float(score), rel=1e-6)


def test_recommended_articles_carry_their_content(client, dataset, customer_with_history):
    body = client.get(f"/customers/{customer_with_history}/recommendations",
                      params={"method": "repurchase", "k": 12}).json()
    table = dataset.articles.set_index("article_id")
    for item in body["items"]:
        article = item["article"]
        row = table.loc[article["article_id"]]
        assert article["name"] == row["prod_name"]
        assert article["product_type"] == row["product_type_name"]
        assert article["colour"] == row["colour_group_name"]
        assert article["price_band"] in {"low", "mid", "high"}  # every one was sold
        assert article["image_url"] == f"/articles/{article['article_id']}/image"


def test_customer_without_history_gets_the_popularity_fallback(client, run_dir, dataset,
                                                               customer_without_history):
    # Repurchase has nothing to repeat for a customer who never bought: its whole list is the
    # run's popularity list, and the API says so.
    body = client.get(f"/customers/{customer_without_history}/recommendations",
                      params={"method": "repurchase", "k": 12}).json()
    assert body["fallback"] is True and body["num_from_model"] == 0
    assert not any(i["from_model"] for i in body["items"])
    assert all(i["score"] is None for i in body["items"])
    popular = RunDirectory(run_dir).load_popular()[:12]
    assert [i["article"]["article_id"] for i in body["items"]] == list(
        dataset.articles["article_id"].to_numpy()[popular])

    # Graph methods may reach such a customer through the customer's attribute nodes (age band,
    # club status): then the list is the model's own and not labelled a fallback.
    idx = int(dataset.customer_index([customer_without_history])[0])
    for method in client.get("/health").json()["methods"]:
        body = client.get(f"/customers/{customer_without_history}/recommendations",
                          params={"method": method}).json()
        saved = saved_list(run_dir, method, idx).head(12)
        assert body["fallback"] == (not saved["from_model"].any())


def test_customer_the_pipeline_did_not_score_falls_back_too(tmp_path, run_dir, dataset,
                                                            customer_with_history):
    """A run saved for test customers only: anyone else gets the popularity list, labelled."""
    from fastapi.testclient import TestClient

    from fashiongraph.serving.api import create_app_from_run

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("serving", "graph", "models"))
    idx = int(dataset.customer_index([customer_with_history])[0])
    path = copy / "recommendations" / "random_walk.parquet"
    recs = pd.read_parquet(path)
    recs[recs["customer_idx"] != idx].to_parquet(path, index=False)

    with TestClient(create_app_from_run(copy)) as client:
        body = client.get(f"/customers/{customer_with_history}/recommendations",
                          params={"method": "random_walk", "k": 7}).json()
    popular = RunDirectory(copy).load_popular()[:7]
    assert body["fallback"] is True and body["num_from_model"] == 0
    assert [i["article"]["article_id"] for i in body["items"]] == list(
        dataset.articles["article_id"].to_numpy()[popular])


def test_unknown_customer_is_a_404_with_a_clear_body(client):
    response = client.get("/customers/nobody-here/recommendations")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "unknown_customer"
    assert "customer_id 'nobody-here': not a customer of run" in body["message"]
    response = client.get("/customers/nobody-here")
    assert response.status_code == 404 and response.json()["error"] == "unknown_customer"


@pytest.mark.parametrize("params, name", [
    ({"method": "no_such_method"}, "method"),
    ({"k": 0}, "k"),
    ({"k": MAX_K + 1}, "k"),
    ({"k": "twelve"}, "k"),
])
def test_bad_parameter_is_a_422_naming_it(client, customer_with_history, params, name):
    response = client.get(f"/customers/{customer_with_history}/recommendations", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [d["loc"] for d in detail] == [["query", name]]
    if name == "method":
        assert "'popularity'" in detail[0]["msg"]  # the allowed values are named


@pytest.mark.parametrize("path", [
    "/articles/123", "/articles/abcdefghij", "/articles/01087750155/image",
    "/articles/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd/image",
])
def test_bad_article_id_is_a_422_or_does_not_route(client, path):
    response = client.get(path)
    assert response.status_code in (404, 422)
    if response.status_code == 422:
        assert response.json()["detail"][0]["loc"] == ["path", "article_id"]
    else:  # no route matched: FastAPI's own 404, not a file
        assert response.json() == {"detail": "Not Found"}


def test_unknown_article_is_a_404(client):
    response = client.get("/articles/0000000001")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_article"
    assert client.get("/articles/0000000001/image").status_code == 404


def test_customer_profile_matches_the_history(client, dataset, history, cutoff,
                                              customer_with_history):
    body = client.get(f"/customers/{customer_with_history}", params={"recent": 5}).json()
    mine = history[history["customer_id"] == customer_with_history]
    row = dataset.customers.set_index("customer_id").loc[customer_with_history]
    assert body["purchase_count"] == int(mine["quantity"].sum())
    assert body["num_articles"] == mine["article_id"].nunique()
    assert body["has_history"] is True
    assert body["club_member_status"] == row["club_member_status"]
    assert body["postal_code"] == row["postal_code"]
    assert body["age"] == pytest.approx(float(row["age"]))
    assert body["last_purchase"] == str(mine["t_dat"].max().date())
    dates = [p["t_dat"] for p in body["recent_purchases"]]
    assert len(dates) == 5 and dates == sorted(dates, reverse=True)
    assert all(pd.Timestamp(d) < cutoff for d in dates)
    latest = set(mine.loc[mine["t_dat"] == mine["t_dat"].max(), "article_id"])
    assert body["recent_purchases"][0]["article"]["article_id"] in latest


def test_profile_of_a_customer_without_history(client, customer_without_history):
    body = client.get(f"/customers/{customer_without_history}").json()
    assert body["has_history"] is False
    assert body["purchase_count"] == 0 and body["recent_purchases"] == []
    assert body["last_purchase"] is None


def test_article_detail_and_customers_also_bought(client, dataset, history):
    # The article bought by most customers before the cutoff has plenty of neighbours.
    buyers = history.groupby("article_id")["customer_id"].nunique()
    article_id = str(buyers.sort_values(ascending=False, kind="stable").index[0])
    body = client.get(f"/articles/{article_id}", params={"neighbours": 5}).json()
    row = dataset.articles.set_index("article_id").loc[article_id]
    assert body["name"] == row["prod_name"]
    assert body["department"] == row["department_name"]
    assert body["description"] == row["detail_desc"]
    assert body["num_sold"] == int(history.loc[history["article_id"] == article_id,
                                               "quantity"].sum())

    # Neighbours recomputed independently: distinct co-buyers per other article.
    who = set(history.loc[history["article_id"] == article_id, "customer_id"])
    others = history[history["customer_id"].isin(who) & (history["article_id"] != article_id)]
    counts = others.groupby("article_id")["customer_id"].nunique()
    got = {n["article"]["article_id"]: n["customers"] for n in body["also_bought"]}
    assert len(got) == 5
    assert all(counts[a] == c for a, c in got.items())
    assert min(got.values()) >= counts.sort_values(ascending=False).iloc[4]
    assert list(got.values()) == sorted(got.values(), reverse=True)


def test_article_image_or_placeholder(client, service, dataset):
    images = service.image_store.root
    with_image = next(p.stem for p in images.glob("*/*.jpg")
                      if p.stem in set(dataset.articles["article_id"]))
    response = client.get(f"/articles/{with_image}/image")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-image-placeholder"] == "false"
    assert response.content == (images / with_image[:3] / f"{with_image}.jpg").read_bytes()

    have = {p.stem for p in images.glob("*/*.jpg")}
    without = next(a for a in dataset.articles["article_id"] if a not in have)
    response = client.get(f"/articles/{without}/image")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["x-image-placeholder"] == "true"
    assert without in response.text


def test_customer_search_by_prefix(client, customer_with_history):
    body = client.get("/customers", params={"prefix": customer_with_history[:6]}).json()
    ids = [m["customer_id"] for m in body]
    assert customer_with_history in ids
    assert all(i.startswith(customer_with_history[:6]) for i in ids)
    assert client.get("/customers", params={"prefix": ""}).status_code == 422


def test_openapi_documents_the_endpoints_and_methods(client):
    schema = client.get("/openapi.json").json()
    assert {"/health", "/customers/{customer_id}", "/customers/{customer_id}/recommendations",
            "/articles/{article_id}", "/articles/{article_id}/image"} <= set(schema["paths"])
    params = schema["paths"]["/customers/{customer_id}/recommendations"]["get"]["parameters"]
    method = next(p for p in params if p["name"] == "method")
    enum = schema["components"]["schemas"]["Method"]["enum"]
    assert "Method" in str(method["schema"])
    assert set(enum) == set(client.get("/health").json()["methods"])
    assert client.get("/docs").status_code == 200
