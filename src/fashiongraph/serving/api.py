"""The REST service a shop front end calls: FastAPI over a ``RunService``.

Endpoints (OpenAPI docs at ``/docs``, schema at ``/openapi.json``)::

    GET /health
    GET /customers?prefix=...&limit=...
    GET /customers/{customer_id}
    GET /customers/{customer_id}/recommendations?method=...&k=...
    GET /articles/{article_id}
    GET /articles/{article_id}/image

Errors: an unknown customer or article answers 404 with ``{"error": ..., "message": ...}``; a bad
parameter answers 422 in FastAPI's format, whose ``loc`` names the parameter. The recommendations
come from memory (indexed at start), so this endpoint is ``async`` and never blocks on I/O; the
profile and article endpoints query DuckDB in the thread pool.
"""

# No `from __future__ import annotations`: the endpoints' annotations name the run's Method enum,
# which exists only inside create_app, so they must be evaluated where they are written.
import enum
import logging
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from fashiongraph.errors import ConfigError, UnknownIdError
from fashiongraph.serving.images import ImageStore
from fashiongraph.serving.models import (
    ArticleDetail,
    CustomerProfile,
    ErrorBody,
    Health,
    RecommendationList,
)
from fashiongraph.serving.service import MAX_K, RunService

log = logging.getLogger(__name__)

ARTICLE_ID = Path(pattern=r"^[0-9]{10}$", description="10-digit article id, e.g. 0706016001",
                  examples=["0706016001"])
CUSTOMER_ID = Path(min_length=1, max_length=128, description="the H&M customer id (64 hex chars)")


class CustomerMatch(BaseModel):
    customer_id: str
    purchase_count: int


def create_app(service: RunService) -> FastAPI:
    """The FastAPI application serving ``service``'s run."""
    # An enum of the run's methods: FastAPI then rejects an unknown method with a 422 that names
    # the parameter and the allowed values, and the OpenAPI schema lists them.
    methods = service.methods or ["popularity"]
    Method = enum.Enum("Method", {m: m for m in methods}, type=str)  # noqa: N806

    app = FastAPI(
        title="fashiongraph recommendations",
        version=_version(),
        description=f"Precomputed recommendations of run `{service.run_name}` "
                    f"(cutoff {service.cutoff}); methods: {', '.join(service.methods)}.",
    )
    app.state.service = service
    not_found = {404: {"model": ErrorBody, "description": "unknown customer or article"}}

    @app.exception_handler(UnknownIdError)
    async def _unknown(request: Request, exc: UnknownIdError):
        kind = "article" if str(exc).startswith("article") else "customer"
        return JSONResponse(status_code=404,
                            content=ErrorBody(error=f"unknown_{kind}", message=str(exc))
                            .model_dump())

    @app.exception_handler(ConfigError)
    async def _bad_parameter(request: Request, exc: ConfigError):
        name = str(exc).split(" ", 1)[0]
        return JSONResponse(status_code=422, content={"detail": [
            {"type": "value_error", "loc": ["query", name], "msg": str(exc)}]})

    @app.get("/health", response_model=Health, tags=["service"])
    async def health() -> Health:
        """Liveness, the run served, its methods and image store."""
        return service.health()

    @app.get("/customers", response_model=list[CustomerMatch], tags=["customers"])
    def search_customers(
        prefix: Annotated[str, Query(min_length=1, max_length=128,
                                     description="start of the customer id")],
        limit: Annotated[int, Query(ge=1, le=MAX_K)] = 20,
    ) -> list[CustomerMatch]:
        """Customers whose id starts with ``prefix``, in id order."""
        return [CustomerMatch(customer_id=c, purchase_count=n)
                for c, n in service.search_customers(prefix, limit)]

    @app.get("/customers/{customer_id}", response_model=CustomerProfile, responses=not_found,
             tags=["customers"])
    def customer(
        customer_id: Annotated[str, CUSTOMER_ID],
        recent: Annotated[int, Query(ge=0, le=MAX_K,
                                     description="how many recent purchases to list")] = 12,
    ) -> CustomerProfile:
        """Profile and recent purchases (history before the run's cutoff)."""
        return service.customer(customer_id, recent)

    @app.get("/customers/{customer_id}/recommendations", response_model=RecommendationList,
             responses=not_found, tags=["customers"])
    async def recommendations(
        customer_id: Annotated[str, CUSTOMER_ID],
        method: Annotated[Method | None, Query(
            description=f"one of the run's methods; default {service.default_method}")] = None,
        k: Annotated[int, Query(ge=1, le=MAX_K, description="list length")] = 12,
    ) -> Response:
        """The method's precomputed top-k for the customer.

        A customer without history gets the popularity list, marked ``fallback: true`` with
        every item ``from_model: false``.
        """
        # Serialised here: returning a Response skips FastAPI's second validation of a result
        # built from the run's own checked arrays (the response model still documents it).
        result = service.recommend(customer_id, None if method is None else method.value, k)
        return Response(content=result.model_dump_json(), media_type="application/json")

    @app.get("/articles/{article_id}", response_model=ArticleDetail, responses=not_found,
             tags=["articles"])
    def article(
        article_id: Annotated[str, ARTICLE_ID],
        neighbours: Annotated[int, Query(ge=0, le=MAX_K,
                                         description="customers-also-bought list length")] = 10,
    ) -> ArticleDetail:
        """Every attribute of the article and its customers-also-bought neighbours."""
        return service.article(article_id, neighbours)

    @app.get("/articles/{article_id}/image", responses={
        **not_found, 200: {"content": {"image/jpeg": {}, "image/svg+xml": {}},
                           "description": "the JPEG, or an SVG placeholder when missing"}},
             response_class=Response, tags=["articles"])
    def article_image(article_id: Annotated[str, ARTICLE_ID]) -> Response:
        """The article's image; a placeholder (``X-Image-Placeholder: true``) when missing."""
        image = service.image(article_id)
        return Response(content=image.content, media_type=image.media_type, headers={
            "X-Image-Placeholder": str(image.placeholder).lower(),
            "Cache-Control": "public, max-age=3600",
        })

    return app


def create_app_from_run(run_dir: str | FilePath, *, images: ImageStore | str | None = None,
                        rebuild_db: bool = False) -> FastAPI:
    """Load ``run_dir`` (building its application database if needed) and serve it."""
    return create_app(RunService(run_dir, images=images, rebuild_db=rebuild_db))


def _version() -> str:
    import fashiongraph

    return fashiongraph.__version__
