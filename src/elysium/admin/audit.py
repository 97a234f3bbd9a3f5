"""The audit log, filtered by actor, action, target and London days."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from elysium.accounts import service as accounts
from elysium.accounts.deps import StaffUser
from elysium.admin.pages import render
from elysium.admin.security import csrf_protect
from elysium.audit import service
from elysium.db import SessionDep
from elysium.kit.pagination import PLAIN_TEXT, CursorQuery, FromDayQuery, ToDayQuery

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])
PAGE_SIZE = 50


@router.get("/audit")
async def audit_log(
    request: Request,
    staff: StaffUser,
    session: SessionDep,
    actor_id: Annotated[uuid.UUID | None, Query()] = None,
    action: Annotated[str | None, Query(max_length=80, pattern=PLAIN_TEXT)] = None,
    target: Annotated[str | None, Query(max_length=130, pattern=PLAIN_TEXT)] = None,
    first: FromDayQuery = None,
    last: ToDayQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    wanted = service.AuditFilter.over_days(actor_id, action, target, first, last)
    page = await service.list_events(session, wanted, PAGE_SIZE, cursor)
    team = await accounts.list_staff(session)
    filters = {
        "actor_id": actor_id or "",
        "action": action or "",
        "target": target or "",
        "from": first or "",
        "to": last or "",
    }
    return render(
        request,
        "audit.html",
        staff,
        events=page.items,
        next_cursor=page.next_cursor,
        team=team,
        names={m.id: m.name or m.email for m in team},
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
    )
