"""In-app notifications of the signed-in user."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from elysium.accounts.deps import CurrentUser
from elysium.db import SessionDep
from elysium.kit.deps import SettingsDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page
from elysium.notifications import preferences, service
from elysium.notifications.schemas import (
    ContactPreferencesRead,
    ContactPreferencesUpdate,
    MarkedRead,
    NotificationRead,
    Unsubscribed,
)

router = APIRouter(tags=["notifications"])


@router.get("/api/notifications")
async def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    unread: bool = Query(False, description="Only unread notifications."),
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[NotificationRead]:
    """Your in-app notifications, newest first; `?unread=true` for the unread ones.

    Each has a `priority` (low, normal, high); expired ones (`expires_at` past) are not listed.
    """
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


@router.get("/api/user/contact-preferences")
async def read_contact_preferences(
    user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ContactPreferencesRead:
    """How the house may contact you: each topic (order updates, appointments, wishlist,
    marketing) on each channel (email, in-app). Order updates are always sent."""
    return await preferences.read_preferences(session, settings, user)


@router.put("/api/user/contact-preferences")
async def update_contact_preferences(
    body: ContactPreferencesUpdate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ContactPreferencesRead:
    """Change some of your choices; each change is recorded (what, when, where, which wording)
    and appears in your data export. 422 for switching order updates off."""
    return await preferences.update_preferences(session, settings, user, body.preferences)


@router.get("/api/unsubscribe/{token}")
@router.post("/api/unsubscribe/{token}")
async def unsubscribe(token: str, session: SessionDep, settings: SettingsDep) -> Unsubscribed:
    """One-click unsubscribe from the link in an email; works without signing in (also as
    the RFC 8058 one-click POST). 404 for a link we did not sign."""
    return Unsubscribed(unsubscribed=await preferences.unsubscribe(session, settings, token))
