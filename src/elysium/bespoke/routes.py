"""Bespoke commission enquiries (contract: "Engagement")."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from elysium.accounts.deps import EnquiryLimit, OptionalUser, StaffUser
from elysium.bespoke import quotes, service
from elysium.bespoke.schemas import (
    BespokeCreate,
    BespokeRead,
    BespokeStatus,
    BespokeUpdate,
    QuoteCreate,
    QuoteRead,
)
from elysium.db import SessionDep
from elysium.kit.deps import RateLimiterDep, SettingsDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(tags=["bespoke"])


@router.post("/api/bespoke", status_code=status.HTTP_201_CREATED, dependencies=[EnquiryLimit])
async def create_enquiry(
    body: BespokeCreate,
    user: OptionalUser,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> BespokeRead:
    """Send the atelier an idea for a bespoke piece; anyone may.

    The client receives an acknowledgement by email and the atelier a notice, both queued.
    """
    return await service.create_enquiry(session, settings, limiter, body, user)


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


@router.post("/api/bespoke/{enquiry_id}/quotes", status_code=status.HTTP_201_CREATED)
async def send_quote(
    enquiry_id: uuid.UUID,
    body: QuoteCreate,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> QuoteRead:
    """Send the client a quote (staff; audited): the price, the deposit due on acceptance (a
    percentage) and how long it stands. The client is emailed a link to accept it; an earlier
    open quote is superseded and the enquiry becomes `quoted`."""
    return await quotes.send_quote(session, settings, staff, enquiry_id, body)


@router.get("/api/bespoke/{enquiry_id}/quotes")
async def list_quotes(
    enquiry_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> list[QuoteRead]:
    """An enquiry's quotes, oldest first (staff only)."""
    return await quotes.list_quotes(session, enquiry_id)
