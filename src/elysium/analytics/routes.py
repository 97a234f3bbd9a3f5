"""Product-view analytics (contract: "Engagement")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from elysium.accounts.deps import CallerId, SessionlessWriteLimit
from elysium.analytics import service
from elysium.analytics.buffer import ViewBufferDep
from elysium.analytics.recent import RecentViewsDep
from elysium.analytics.schemas import (
    SESSION_ID_PATTERN,
    RecentlyViewed,
    Trending,
    ViewCreate,
)
from elysium.catalog.cache import CatalogCache, get_catalog_cache
from elysium.db import AutocommitEngineDep, ReadSessionDep
from elysium.kit.deps import SettingsDep

router = APIRouter(tags=["analytics"])

CacheDep = Annotated[CatalogCache, Depends(get_catalog_cache)]
ListLimit = Annotated[int, Query(ge=1, le=service.MAX_LIST, description="How many (max 50).")]


@router.post(
    "/api/analytics/track-view",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    dependencies=[SessionlessWriteLimit],
)
async def track_view(
    body: ViewCreate,
    caller: CallerId,
    buffer: ViewBufferDep,
    cache: CacheDep,
    database: AutocommitEngineDep,
) -> Response:
    """Record that a product page was viewed: by the signed-in user, else by `session_id`.

    404 for an unknown product. Guests' writes are rate limited per client IP. Views are
    written in batches: they show in the lists a fraction of a second later. The hottest
    write of the shop: no database round trip for a guest's view of a known product.
    """
    await service.record_view(buffer, cache, database, body.product_slug, caller, body.session_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.get("/api/analytics/recently-viewed")
async def recently_viewed(
    caller: CallerId,
    reader: RecentViewsDep,
    session_id: Annotated[str | None, Query(pattern=SESSION_ID_PATTERN)] = None,
    limit: ListLimit = 20,
) -> RecentlyViewed:
    """Pieces you viewed, each once, most recent first.

    Signed-in users see their own views; guests pass the `session_id` they tracked with.
    """
    items = await service.recently_viewed(reader, caller, session_id, limit)
    return RecentlyViewed(items=items)


@router.get("/api/analytics/trending")
async def trending(
    session: ReadSessionDep, settings: SettingsDep, limit: ListLimit = 10
) -> Trending:
    """The most viewed pieces of the last seven days; new views count within a minute."""
    items = await service.trending(session, limit, settings.trending_cache_seconds)
    return Trending(items=items)
