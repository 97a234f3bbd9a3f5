"""Product views: one row per view; recently viewed per viewer; trending over the last week."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.analytics.schemas import RecentlyViewedItem, TrendingItem
from elysium.catalog.service import get_product
from elysium.db import rows_affected
from elysium.errors import ValidationFailedError
from elysium.kit.clock import utcnow
from elysium.models import Product, ProductView

TRENDING_WINDOW = timedelta(days=7)
MAX_LIST = 50
RECENT_SCAN = 500  # distinct products are drawn from a viewer's latest views only


def _live() -> ColumnElement[bool]:
    return and_(Product.deleted_at.is_(None), Product.published.is_(True))


async def record_view(
    session: AsyncSession, product_slug: str, user_id: uuid.UUID | None, session_id: str | None
) -> None:
    """Record one view: by user when signed in, else by the guest's session id (if any)."""
    product = await get_product(session, product_slug)
    await session.execute(
        insert(ProductView).values(
            product_id=product.id,
            user_id=user_id,
            session_id=None if user_id is not None else session_id,
        )
    )


async def _top_live_products(
    session: AsyncSession, ranked: Subquery, limit: int
) -> Sequence[tuple[str, str, str | None, Any]]:
    """Slug, title, image and the measure of `ranked` (product_id, measure), highest first."""
    measure = ranked.c[1]
    stmt = (
        select(Product.slug, Product.title, Product.image_url, measure)
        .join(ranked, ranked.c.product_id == Product.id)
        .where(_live())
        .order_by(measure.desc(), Product.slug)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


def _viewer(user_id: uuid.UUID | None, session_id: str | None) -> ColumnElement[bool]:
    if user_id is not None:
        return ProductView.user_id == user_id
    if session_id is None:
        raise ValidationFailedError(
            "Guests must send their session_id.",
            errors=[{"field": "session_id", "message": "required when not signed in"}],
        )
    return ProductView.session_id == session_id


async def recently_viewed(
    session: AsyncSession, user_id: uuid.UUID | None, session_id: str | None, limit: int
) -> list[RecentlyViewedItem]:
    """Distinct live products the viewer saw, most recently seen first."""
    latest = (
        select(ProductView.product_id, ProductView.viewed_at)
        .where(_viewer(user_id, session_id))
        .order_by(ProductView.viewed_at.desc())
        .limit(RECENT_SCAN)
        .subquery()
    )
    last_seen = (
        select(latest.c.product_id, func.max(latest.c.viewed_at).label("viewed_at"))
        .group_by(latest.c.product_id)
        .subquery()
    )
    return [
        RecentlyViewedItem(product_slug=slug, title=title, image=image, viewed_at=viewed_at)
        for slug, title, image, viewed_at in await _top_live_products(session, last_seen, limit)
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
