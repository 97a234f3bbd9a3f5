"""The audit log for staff (contract: "Staff API")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from elysium.accounts.deps import StaffUser
from elysium.audit import service
from elysium.audit.schemas import AuditEventRead
from elysium.db import SessionDep
from elysium.kit.pagination import (
    PLAIN_TEXT,
    CursorQuery,
    FromDayQuery,
    LimitQuery,
    Page,
    ToDayQuery,
)

router = APIRouter(tags=["audit"])


@router.get("/api/admin/audit")
async def list_audit_events(
    staff: StaffUser,
    session: SessionDep,
    actor_id: uuid.UUID | None = None,
    action: Annotated[
        str | None,
        Query(
            max_length=80,
            pattern=PLAIN_TEXT,
            description='An action, or a family ending in "." (`inventory.`).',
        ),
    ] = None,
    target: Annotated[
        str | None,
        Query(max_length=130, pattern=PLAIN_TEXT, description="A target type, or `type:id`."),
    ] = None,
    first: FromDayQuery = None,
    last: ToDayQuery = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[AuditEventRead]:
    """Audited actions, newest first (staff only), filtered by actor, action, target and
    London days `from`..`to` (both included)."""
    wanted = service.AuditFilter.over_days(actor_id, action, target, first, last)
    return await service.list_events(session, wanted, limit, cursor)
