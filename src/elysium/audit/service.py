"""Writing the audit log, always inside the transaction of the action it records; reading it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.schemas import AuditEventRead
from elysium.kit.clock import london_midnight
from elysium.kit.context import current_client_ip, current_request_id
from elysium.kit.keyset import decode_time_cursor, page_of
from elysium.kit.pagination import Page
from elysium.models import AuditEvent


async def record_event(
    session: AsyncSession,
    action: str,
    *,
    actor_id: uuid.UUID | None,
    target_type: str | None = None,
    target_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit row in the caller's transaction."""
    session.add(
        AuditEvent(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            ip=current_client_ip(),
            request_id=current_request_id(),
            details=details or {},
        )
    )
    await session.flush()


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """`action` ending in "." matches every action of that family (`inventory.`); `target` is a
    target type (`order`) or `type:id`; `since`/`until` bound `occurred_at` (until excluded)."""

    actor_id: uuid.UUID | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def over_days(
        cls,
        actor_id: uuid.UUID | None,
        action: str | None,
        target: str | None,
        first: date | None,
        last: date | None,
    ) -> AuditFilter:
        """The filter for London days `first`..`last` (both included); blanks mean any."""
        return cls(
            actor_id=actor_id,
            action=action or None,
            target=target or None,
            since=None if first is None else london_midnight(first),
            until=None if last is None else london_midnight(last + timedelta(days=1)),
        )


def _conditions(wanted: AuditFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if wanted.actor_id is not None:
        found.append(AuditEvent.actor_id == wanted.actor_id)
    if wanted.action:
        if wanted.action.endswith("."):
            found.append(AuditEvent.action.startswith(wanted.action, autoescape=True))
        else:
            found.append(AuditEvent.action == wanted.action)
    if wanted.target:
        kind, _, ident = wanted.target.partition(":")
        found.append(AuditEvent.target_type == kind)
        if ident:
            found.append(AuditEvent.target_id == ident)
    if wanted.since is not None:
        found.append(AuditEvent.occurred_at >= wanted.since)
    if wanted.until is not None:
        found.append(AuditEvent.occurred_at < wanted.until)
    return found


async def list_events(
    session: AsyncSession, wanted: AuditFilter, limit: int, cursor: str | None
) -> Page[AuditEventRead]:
    """Audit events matching `wanted`, newest first, one keyset page."""
    stmt = select(AuditEvent).where(*_conditions(wanted))
    after = decode_time_cursor(cursor)
    if after is not None:
        stmt = stmt.where(tuple_(AuditEvent.occurred_at, AuditEvent.id) < after)
    stmt = stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit + 1)
    rows = list((await session.scalars(stmt)).all())
    page, next_cursor = page_of(rows, limit, lambda e: (e.occurred_at, e.id))
    return Page(items=[AuditEventRead.model_validate(e) for e in page], next_cursor=next_cursor)
