"""Atelier consultation bookings (contract: "Engagement")."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Query, status

from elysium.accounts.deps import CurrentUser, StaffUser
from elysium.consultations import service
from elysium.consultations.schemas import (
    ConsultationAdminRead,
    ConsultationCreate,
    ConsultationMove,
    ConsultationRead,
    ConsultationStatus,
    Slots,
)
from elysium.db import SessionDep
from elysium.kit.deps import SettingsDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(tags=["consultations"])


@router.get("/api/consultations/slots")
async def list_free_slots(
    session: SessionDep,
    settings: SettingsDep,
    first: date | None = Query(None, alias="from", description="First day (atelier time)."),
    last: date | None = Query(None, alias="to", description="Last day, at most 31 days on."),
) -> Slots:
    """Free consultation slots between two days (default: the next two weeks).

    Slots follow the atelier's opening hours (Europe/London); times are UTC.
    """
    return Slots(items=await service.free_slots(session, settings, first, last))


@router.get("/api/consultations")
async def list_consultations(
    user: CurrentUser, session: SessionDep, limit: LimitQuery = 20, cursor: CursorQuery = None
) -> Page[ConsultationRead]:
    """Your consultation bookings, cancelled ones included, latest first."""
    return await service.list_consultations(session, user, limit, cursor)


@router.post("/api/consultations", status_code=status.HTTP_201_CREATED)
async def book_consultation(
    body: ConsultationCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ConsultationRead:
    """Book a free slot (`starts_at` as listed by `/api/consultations/slots`).

    409 when the slot is taken (or you hold too many upcoming bookings); 422 for a time in
    the past, outside opening hours or not at the start of a slot. A confirmation is emailed.
    """
    return await service.book_consultation(session, settings, user, body)


@router.delete("/api/consultations/{consultation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_consultation(
    consultation_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> None:
    """Cancel one of your bookings; the slot becomes free again and you are emailed.

    Another client's is 404; cancelling a cancelled booking again is a harmless 204.
    """
    await service.cancel_consultation(session, settings, user, consultation_id)


@router.get("/api/admin/consultations")
async def list_all_consultations(
    staff: StaffUser,
    session: SessionDep,
    status_filter: ConsultationStatus | None = Query(
        None, alias="status", description="Only bookings in this status."
    ),
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[ConsultationAdminRead]:
    """Every client's consultation bookings, past and upcoming, latest slot first (staff only).

    Each comes with the client's id, email and name.
    """
    return await service.list_all_consultations(session, status_filter, limit, cursor)


@router.post(
    "/api/admin/consultations/{consultation_id}/cancel", status_code=status.HTTP_204_NO_CONTENT
)
async def cancel_for_client(
    consultation_id: uuid.UUID, staff: StaffUser, session: SessionDep, settings: SettingsDep
) -> None:
    """Cancel a client's upcoming booking (staff; audited): the slot is freed and the client
    emailed. 409 for a booking already cancelled or past."""
    await service.cancel_for_client(session, settings, staff, consultation_id)


@router.post("/api/admin/consultations/{consultation_id}/reschedule")
async def reschedule(
    consultation_id: uuid.UUID,
    body: ConsultationMove,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ConsultationAdminRead:
    """Move a client's upcoming booking to another free slot (staff; audited); the client is
    sent a fresh confirmation. 422 for a time that is not a bookable slot, 409 when taken."""
    return await service.reschedule(session, settings, staff, consultation_id, body.starts_at)
