"""Housekeeping run by periodic jobs: expiry of holds, old sessions and data past retention."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Delete, delete, exists, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.db import rows_affected
from elysium.inventory.schemas import LowStockRead
from elysium.inventory.service import low_stock
from elysium.kit.clock import utcnow
from elysium.models import AuthSession, Cart, JobError, Notification, ProductView, SentEmail
from elysium.notifications.emails import notify_staff

log = logging.getLogger(__name__)

LOW_STOCK_DIGEST_LIMIT = 100
LOW_STOCK_FIELDS = (
    "product_title",
    "product_slug",
    "variant_key",
    "available",
    "stock_level",
    "reserved",
    "low_stock_threshold",
)


async def delete_expired_sessions(session: AsyncSession, keep_days: int) -> int:
    """Delete sign-in sessions expired or revoked more than `keep_days` ago."""
    cutoff = utcnow() - timedelta(days=keep_days)
    result = await session.execute(
        delete(AuthSession).where(
            or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff)
        )
    )
    return rows_affected(result)


async def apply_retention(session: AsyncSession, settings: Settings) -> dict[str, int]:
    """Forget what is past its retention: email contexts (the body data), notifications, and
    error notes of jobs that no longer exist."""
    now = utcnow()
    emails = await session.execute(
        update(SentEmail)
        .where(
            SentEmail.status != "queued",
            SentEmail.context.is_not(None),
            SentEmail.created_at < now - timedelta(days=settings.email_retention_days),
        )
        .values(context=None)
    )
    notices = await session.execute(
        delete(Notification).where(
            Notification.created_at < now - timedelta(days=settings.notification_retention_days)
        )
    )
    job_exists = exists(
        select(text("1"))
        .select_from(text("procrastinate_jobs j"))
        .where(text("j.id = job_errors.job_id"))
    )
    errors = await session.execute(delete(JobError).where(~job_exists))
    return {
        "email_contexts": rows_affected(emails),
        "notifications": rows_affected(notices),
        "job_errors": rows_affected(errors),
    }


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
    return await _delete_batch(session, delete(ProductView).where(ProductView.id.in_(batch)))


async def delete_expired_guest_carts(session: AsyncSession, limit: int) -> int:
    """Delete up to `limit` guest carts past their expiry (their lines go with them by
    cascade); the count deleted. An expired cart is never read again, so none is lost."""
    batch = (
        select(Cart.id)
        .where(Cart.user_id.is_(None), Cart.expires_at < utcnow())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return await _delete_batch(session, delete(Cart).where(Cart.id.in_(batch)))


async def _delete_batch(session: AsyncSession, statement: Delete) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return rows_affected(result)


def _low_stock_row(item: LowStockRead) -> dict[str, Any]:
    row = item.model_dump()
    values = {name: row[name] for name in LOW_STOCK_FIELDS if name in row}
    values.setdefault("product_title", values["product_slug"])
    return values


async def send_low_stock_digest(session: AsyncSession, settings: Settings) -> int:
    """Email the atelier the variants at or below their threshold (once a day at most)."""
    items = (await low_stock(session, LOW_STOCK_DIGEST_LIMIT, None)).items
    if not items:
        return 0
    now = utcnow()
    context = {
        "variants": [_low_stock_row(item) for item in items],
        "generated_at": now,
        "admin_url": f"{settings.public_base_url.rstrip('/')}/admin/inventory",
    }
    await notify_staff(
        session,
        settings,
        template="low_stock_digest",
        context=context,
        idempotency_key=f"low-stock-digest:{now:%Y-%m-%d}",
    )
    return len(items)
