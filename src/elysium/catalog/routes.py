"""Catalogue endpoints (contract: "Catalogue"): products, collections, prices, Sanity webhook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.analytics.service import view_counts_since
from elysium.catalog import service
from elysium.catalog.cache import CatalogCache, conditional_response, get_catalog_cache
from elysium.catalog.schemas import (
    CategoryTree,
    CollectionRead,
    PriceRead,
    PriceRequest,
    ProductListQuery,
    ProductPage,
    ProductRead,
    WebhookReceipt,
)
from elysium.catalog.webhook import handle_sanity_webhook
from elysium.db import SessionDep, read_sessionmaker
from elysium.inventory.service import available_quantities
from elysium.kit.deps import SettingsDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page
from elysium.kit.query import openapi_parameters, parse_query

router = APIRouter(tags=["catalogue"])

CacheDep = Annotated[CatalogCache, Depends(get_catalog_cache)]
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag is current."}
}


async def _cached_read(
    request: Request,
    cache: CatalogCache,
    key: Hashable,
    read: Callable[[AsyncSession], Awaitable[BaseModel]],
) -> Response:
    """Serve a read from the cache; only a miss opens a database session (on the read replica
    when there is a good one: the catalogue is the same for everyone)."""

    async def fresh() -> BaseModel:
        async with read_sessionmaker(request)() as session:
            return await read(session)

    return conditional_response(request, await cache.get_or_build(key, fresh))


@router.get(
    "/api/products",
    response_model=ProductPage,
    responses=NOT_MODIFIED,
    openapi_extra=openapi_parameters(ProductListQuery),
)
async def list_products(request: Request, cache: CacheDep) -> Response:
    """Live products, filtered and sorted, with facet counts over the filtered set.

    `category` includes its subcategories; `popular` orders by views in the last 30 days.
    Cached for 60 s with an ETag; `If-None-Match` answers 304.
    """
    cached = cache.rendered(("products", request.url.query))
    if cached is not None:  # this exact query was valid a moment ago
        return conditional_response(request, cached)
    query = parse_query(ProductListQuery, request.query_params)
    filters = service.product_filters(query)
    limit, cursor = query.limit, query.cursor
    return await _cached_read(
        request,
        cache,
        ("products", request.url.query),
        lambda session: service.list_products(
            session, available_quantities, filters, limit, cursor, view_counts_since
        ),
    )


@router.get("/api/categories", response_model=CategoryTree, responses=NOT_MODIFIED)
async def list_categories(request: Request, cache: CacheDep) -> Response:
    """The category tree, each category with its live products (its own and below it)."""
    return await _cached_read(request, cache, ("categories",), service.category_tree)


@router.get("/api/products/{slug}", response_model=ProductRead, responses=NOT_MODIFIED)
async def read_product(slug: str, request: Request, cache: CacheDep) -> Response:
    """One product with its options, engraving and stock-keeping options. 404 when not live."""
    return await _cached_read(
        request,
        cache,
        ("product", slug),
        lambda session: service.product_detail(session, available_quantities, slug),
    )


@router.post("/api/products/{slug}/price")
async def price_configuration(
    slug: str, body: PriceRequest, session: SessionDep, cache: CacheDep
) -> PriceRead:
    """Price a configuration server-side. 422 names each invalid field of the configuration."""
    return await service.quote_price(session, cache, available_quantities, slug, body.configuration)


@router.get("/api/collections", response_model=Page[CollectionRead], responses=NOT_MODIFIED)
async def list_collections(
    request: Request,
    cache: CacheDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Response:
    """Live collections by title, each with its number of live products."""
    return await _cached_read(
        request,
        cache,
        ("collections", limit, cursor),
        lambda session: service.list_collections(session, limit, cursor),
    )


@router.post("/api/webhooks/sanity", tags=["webhooks"])
async def sanity_webhook(
    request: Request, session: SessionDep, settings: SettingsDep
) -> WebhookReceipt:
    """Apply a signed Sanity webhook (`sanity-webhook-signature`): upsert or soft-delete.

    401 when unsigned, badly signed or stale; 503 when SANITY_WEBHOOK_SECRET is not set.
    Drafts and other document types are acknowledged and ignored; a retry changes nothing.
    """
    status, doc_id = await handle_sanity_webhook(
        session, settings.sanity_webhook_secret, await request.body(), request.headers
    )
    return WebhookReceipt(status=status, id=doc_id)
