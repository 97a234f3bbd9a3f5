"""In-app notifications of the signed-in user."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from elysium.accounts.deps import CurrentUser
from elysium.db import SessionDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page
from elysium.notifications import service
from elysium.notifications.schemas import MarkedRead, NotificationRead

router = APIRouter(tags=["notifications"])


@router.get("/api/notifications")
async def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    unread: bool = Query(False, description="Only unread notifications."),
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[NotificationRead]:
    """Your in-app notifications, newest first; `?unread=true` for the unread ones."""
    rows, next_cursor = await service.list_notifications(
        session, user, unread_only=unread, limit=limit, cursor=cursor
    )
    return Page(items=[NotificationRead.model_validate(n) for n in rows], next_cursor=next_cursor)


@router.post("/api/notifications/read-all")
async def mark_all_read(user: CurrentUser, session: SessionDep) -> MarkedRead:
    """Mark all your notifications read."""
    return MarkedRead(marked_read=await service.mark_all_read(session, user))


@router.post("/api/notifications/{notification_id}/read")
async def mark_read(
    notification_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> NotificationRead:
    """Mark one of your notifications read; another user's is 404."""
    return NotificationRead.model_validate(await service.mark_read(session, user, notification_id))
