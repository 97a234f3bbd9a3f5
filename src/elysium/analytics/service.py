"""Product views: one row per view; recently viewed per viewer; trending over the last week."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import monotonic
from typing import Any

from sqlalchemy import (
    Subquery,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from elysium.analytics.buffer import ViewBuffer
from elysium.analytics.recent import RecentViews, Viewer
from elysium.analytics.schemas import RecentlyViewedItem, TrendingItem
from elysium.catalog.cache import CatalogCache
from elysium.catalog.listing import visible
from elysium.catalog.service import get_product
from elysium.db import autocommit_session, rows_affected
from elysium.errors import ValidationFailedError
from elysium.kit.clock import utcnow
from elysium.models import Product, ProductView, RecentView

TRENDING_WINDOW = timedelta(days=7)
MAX_LIST = 50


async def live_product_id(session: AsyncSession, product_slug: str) -> uuid.UUID:
    """The id of the live product called `product_slug`; NotFoundError otherwise."""
    return (await get_product(session, product_slug)).id


async def record_view(
    buffer: ViewBuffer,
    cache: CatalogCache,
    database: AsyncEngine,
    product_slug: str,
    user_id: uuid.UUID | None,
    session_id: str | None,
) -> None:
    """Record one view: by user when signed in, else by the guest's session id (if any).

    The product is looked up in the process's catalogue cache (dropped whenever the catalogue
    changes; a miss reads it in a short session of its own), and the view joins the buffer that
    is written in batches: no database round trip for a known product.
    """

    async def look_up() -> uuid.UUID:
        async with autocommit_session(database) as session:
            return await live_product_id(session, product_slug)

    product_id = await cache.remember(("live-product-id", product_slug), look_up)
    buffer.add(product_id, user_id, None if user_id is not None else session_id)


async def _top_live_products(
    session: AsyncSession, ranked: Subquery, limit: int
) -> Sequence[tuple[str, str, str | None, Any]]:
    """Slug, title, image and the measure of `ranked` (product_id, measure), highest first."""
    measure = ranked.c[1]
    stmt = (
        select(Product.slug, Product.title, Product.image_url, measure)
        .join(ranked, ranked.c.product_id == Product.id)
        .where(visible())
        .order_by(measure.desc(), Product.slug)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


def _viewer(user_id: uuid.UUID | None, session_id: str | None, limit: int) -> Viewer:
    """The signed-in user, else the guest's session id (422 when a guest sends none)."""
    if user_id is None and session_id is None:
        raise ValidationFailedError(
            "Guests must send their session_id.",
            errors=[{"field": "session_id", "message": "required when not signed in"}],
        )
    return Viewer(user_id, None if user_id is not None else session_id, limit)


async def recently_viewed(
    reader: RecentViews, user_id: uuid.UUID | None, session_id: str | None, limit: int
) -> list[RecentlyViewedItem]:
    """Distinct live products the viewer saw, most recently seen first.

    Read from `recent_views` (one row per viewer and product, kept by a trigger on
    `product_views`): at most `limit` index entries, however many views the viewer has, in a
    statement shared with the other reads under way (`RecentViews`).
    """
    rows = await reader.read(_viewer(user_id, session_id, limit))
    return [
        RecentlyViewedItem(
            product_slug=row.slug, title=row.title, image=row.image_url, viewed_at=row.viewed_at
        )
        for row in rows
    ]


async def compute_trending(session: AsyncSession, limit: int = MAX_LIST) -> list[TrendingItem]:
    """The live products viewed most in the last seven days, straight from the database."""
    counts = (
        select(ProductView.product_id, func.count().label("views"))
        .where(ProductView.viewed_at >= utcnow() - TRENDING_WINDOW)
        .group_by(ProductView.product_id)
        .subquery()
    )
    return [
        TrendingItem(product_slug=slug, title=title, image=image, views=views)
        for slug, title, image, views in await _top_live_products(session, counts, limit)
    ]


@dataclass
class TrendingCache:
    """The top of the trending list, recomputed at most once per `ttl` seconds per process."""

    items: list[TrendingItem] | None = None
    expires_at: float = 0.0

    def __post_init__(self) -> None:
        self._lock = asyncio.Lock()

    def clear(self) -> None:
        self.items = None

    async def get(self, session: AsyncSession, ttl: float) -> list[TrendingItem]:
        """The cached list while fresh; one request recomputes it when stale."""
        if self.items is not None and monotonic() < self.expires_at:
            return self.items
        async with self._lock:
            if self.items is None or monotonic() >= self.expires_at:
                self.items = await compute_trending(session)
                self.expires_at = monotonic() + ttl
            return self.items


trending_cache = TrendingCache()


async def trending(session: AsyncSession, limit: int, ttl: float) -> list[TrendingItem]:
    """The `limit` most viewed live products of the last week, at most `ttl` seconds stale."""
    return (await trending_cache.get(session, ttl))[:limit]


PARTITION_NAME = re.compile(r"^product_views_y(\d{4})m(\d{2})$")
MONTHS_AHEAD = 2

_ENSURE_PARTITIONS = text(
    "SELECT count(*) FILTER (WHERE made) FROM (SELECT product_views_ensure_partition(m::date)"
    " AS made FROM generate_series(date_trunc('month', now() AT TIME ZONE 'UTC'),"
    " date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => :ahead),"
    " interval '1 month') AS m) AS made"
)
_PARTITIONS = text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = 'product_views'::regclass"
)


async def ensure_view_partitions(session: AsyncSession, months_ahead: int = MONTHS_AHEAD) -> int:
    """Make the monthly partitions of this month and the next `months_ahead` when missing
    (moving any of their views out of the default partition); the count made."""
    return int((await session.execute(_ENSURE_PARTITIONS, {"ahead": months_ahead})).scalar_one())


async def drop_view_partitions_before(session: AsyncSession, cutoff: datetime) -> list[str]:
    """Drop the monthly partitions whose every view is older than `cutoff`; their names.

    Dropping a month is one catalogue change instead of a delete per row: no dead rows, no
    vacuum, no long lock. The views of the month the cutoff falls in are deleted row by row.
    """
    dropped = []
    for name in sorted((await session.scalars(_PARTITIONS)).all()):
        match = PARTITION_NAME.match(name)
        if match is None:
            continue
        year, month = int(match[1]), int(match[2])
        ends = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        if ends <= cutoff:
            await session.execute(text(f'DROP TABLE "{name}"'))
            dropped.append(name)
    return dropped


async def delete_recent_views_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` "last seen" rows older than `cutoff` (with the views they stand for)."""
    batch = (
        select(RecentView.id)
        .where(RecentView.viewed_at < cutoff)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = delete(RecentView).where(RecentView.id.in_(batch))
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return rows_affected(result)


async def delete_product_views_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` product views older than `cutoff`; the count deleted.

    Rows another purge holds are skipped, so concurrent runs never wait on each other.
    """
    batch = (
        select(ProductView.id)
        .where(ProductView.viewed_at < cutoff)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = delete(ProductView).where(ProductView.id.in_(batch))
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return rows_affected(result)


async def view_counts_since(
    session: AsyncSession, product_ids: Sequence[uuid.UUID], since: datetime
) -> dict[uuid.UUID, int]:
    """Views of each of `product_ids` since `since` (products without views are left out)."""
    rows = await session.execute(
        select(ProductView.product_id, func.count())
        .where(ProductView.viewed_at >= since, ProductView.product_id.in_(product_ids))
        .group_by(ProductView.product_id)
    )
    return dict(rows.tuples().all())
