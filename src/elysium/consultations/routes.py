"""Atelier consultation bookings (contract: "Engagement")."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Query, status

from elysium.accounts.deps import CurrentUser, StaffUser
from elysium.consultations import calendar, service
from elysium.consultations.schemas import (
    ClosureCreate,
    ClosureRead,
    ConsultationAdminRead,
    ConsultationCreate,
    ConsultationMove,
    ConsultationRead,
    ConsultationReschedule,
    ConsultationStatus,
    ConsultationTypeRead,
    Slots,
)
from elysium.db import SessionDep
from elysium.kit.deps import SettingsDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page
from elysium.models import ConsultationKind

router = APIRouter(tags=["consultations"])


@router.get("/api/consultations/types")
async def list_consultation_types() -> list[ConsultationTypeRead]:
    """The kinds of consultation the atelier offers, with length, price and weekdays."""
    return service.list_types()


@router.get("/api/consultations/slots")
async def list_free_slots(
    session: SessionDep,
    settings: SettingsDep,
    first: date | None = Query(None, alias="from", description="First day (atelier time)."),
    last: date | None = Query(None, alias="to", description="Last day, at most 31 days on."),
    kind: ConsultationKind | None = Query(None, description="Default: bridal design."),
) -> Slots:
    """Free slots of one kind of consultation between two days (default: the next two weeks).

    Slots follow the atelier's opening hours (Europe/London) and the days the kind is offered;
    bank holidays and closures are never offered; times are UTC.
    """
    return Slots(items=await service.free_slots(session, settings, first, last, kind))


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
    """Book a free slot of a kind of consultation (`starts_at` as listed by
    `/api/consultations/slots?kind=`; bridal design when no `kind` is given).

    409 when the slot is taken (or you hold too many upcoming bookings, however many you send
    at once); 422 for a time in the past, on a bank holiday or closure, outside opening hours,
    on a day the kind is not offered or not at the start of a slot. A confirmation is emailed
    to you and the atelier is told.
    """
    return await service.book_consultation(session, settings, user, body)


@router.delete("/api/consultations/{consultation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_consultation(
    consultation_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> None:
    """Cancel one of your bookings; the slot becomes free again; you and the atelier are emailed.

    Another client's is 404; cancelling a cancelled booking again is a harmless 204.
    """
    await service.cancel_consultation(session, settings, user, consultation_id)


@router.patch("/api/consultations/{consultation_id}")
async def reschedule_consultation(
    consultation_id: uuid.UUID,
    body: ConsultationReschedule,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ConsultationRead:
    """Move one of your upcoming bookings to another free slot of the same kind.

    You and the atelier are emailed; 409 when the slot is taken or the booking is cancelled or
    past; 422 for a time that is not a slot; another client's is 404.
    """
    return await service.reschedule_consultation(session, settings, user, consultation_id, body)


@router.get("/api/admin/atelier/closures")
async def list_closures(staff: StaffUser, session: SessionDep) -> list[ClosureRead]:
    """Days from today on when the atelier is closed (bank holidays are closed anyway)."""
    return await calendar.list_closures(session)


@router.post("/api/admin/atelier/closures", status_code=status.HTTP_201_CREATED)
async def add_closure(body: ClosureCreate, staff: StaffUser, session: SessionDep) -> ClosureRead:
    """Close the atelier on a day: no consultation is offered on it. 409 when already closed."""
    return await calendar.add_closure(session, body)


@router.delete("/api/admin/atelier/closures/{day}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_closure(day: date, staff: StaffUser, session: SessionDep) -> None:
    """Open the atelier again on a day it was closed; 404 when it was not closed."""
    await calendar.remove_closure(session, day)


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
