"""In-app notifications: created by domain events, listed and marked read by their owner."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.db import insert_new, rows_affected
from elysium.errors import NotFoundError
from elysium.kit.clock import utcnow
from elysium.kit.keyset import decode_time_cursor
from elysium.kit.pagination import encode_cursor
from elysium.models import Notification, Priority, User


async def notify_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    data: dict[str, Any] | None = None,
    *,
    priority: Priority = Priority.NORMAL,
    expires_at: datetime | None = None,
) -> Notification:
    """Add a notification for `user_id` in the caller's transaction."""
    notification = Notification(
        user_id=user_id,
        kind=kind,
        title=title,
        body=body,
        data=data or {},
        priority=priority,
        expires_at=expires_at,
    )
    await insert_new(session, notification)
    return notification


async def list_notifications(
    session: AsyncSession, user: User, *, unread_only: bool, limit: int, cursor: str | None
) -> tuple[list[Notification], str | None]:
    """The user's notifications, newest first, one page and the cursor of the next."""
    stmt = select(Notification).where(
        Notification.user_id == user.id,
        or_(Notification.expires_at.is_(None), Notification.expires_at > utcnow()),
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    after = decode_time_cursor(cursor)
    if after is not None:
        stmt = stmt.where(tuple_(Notification.created_at, Notification.id) < after)
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor([last.created_at.isoformat(), str(last.id)])


async def mark_read(session: AsyncSession, user: User, notification_id: uuid.UUID) -> Notification:
    """Mark one of the user's notifications read; another user's is 404."""
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFoundError("No such notification.")
    if notification.read_at is None:
        notification.read_at = utcnow()
        await session.flush()
    return notification


async def mark_all_read(session: AsyncSession, user: User) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return rows_affected(result)


async def delete_notifications_before(session: AsyncSession, before: datetime) -> int:
    """Delete the in-app notifications created before `before`; the count deleted."""
    result = await session.execute(delete(Notification).where(Notification.created_at < before))
    return rows_affected(result)
