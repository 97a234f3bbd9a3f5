"""Bespoke commission enquiries (contract: "Engagement")."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from elysium.accounts.deps import AnonymousWriteLimit, OptionalUser, StaffUser
from elysium.bespoke import service
from elysium.bespoke.schemas import BespokeCreate, BespokeRead, BespokeStatus, BespokeUpdate
from elysium.db import SessionDep
from elysium.kit.deps import SettingsDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(tags=["bespoke"])


@router.post(
    "/api/bespoke", status_code=status.HTTP_201_CREATED, dependencies=[AnonymousWriteLimit]
)
async def create_enquiry(
    body: BespokeCreate, user: OptionalUser, session: SessionDep, settings: SettingsDep
) -> BespokeRead:
    """Send the atelier an idea for a bespoke piece; anyone may.

    The client receives an acknowledgement by email and the atelier a notice, both queued.
    """
    user_id = None if user is None else user.id
    return await service.create_enquiry(session, settings, body, user_id)


@router.get("/api/bespoke")
async def list_enquiries(
    staff: StaffUser,
    session: SessionDep,
    status_filter: BespokeStatus | None = Query(
        None, alias="status", description="Only enquiries in this status."
    ),
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[BespokeRead]:
    """Bespoke enquiries, newest first (staff only)."""
    return await service.list_enquiries(session, status_filter, limit, cursor)


@router.get("/api/bespoke/{enquiry_id}")
async def get_enquiry(enquiry_id: uuid.UUID, staff: StaffUser, session: SessionDep) -> BespokeRead:
    """One bespoke enquiry (staff only)."""
    return service.enquiry_read(await service.get_enquiry(session, enquiry_id))


@router.patch("/api/bespoke/{enquiry_id}")
async def update_enquiry(
    enquiry_id: uuid.UUID, body: BespokeUpdate, staff: StaffUser, session: SessionDep
) -> BespokeRead:
    """Change an enquiry's status, assignee or staff notes (staff only; audited).

    Statuses move forward through new, contacted, consultation_booked, in_design, quoted to won
    or lost (steps may be skipped); a booked consultation may fall back to contacted, a quote to
    in_design, and a lost enquiry may be re-opened as contacted; anything else is 409.
    """
    return await service.update_enquiry(session, staff, enquiry_id, body)
