"""The atelier's diary: consultations by day or week; cancel or move one (consultations
service: the client is emailed, the action audited)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from elysium.accounts.deps import StaffUser
from elysium.admin.pages import back_to, form_fields, parse, render, required
from elysium.admin.security import csrf_protect
from elysium.consultations import service
from elysium.consultations.schemas import ConsultationMove
from elysium.db import SessionDep
from elysium.kit.clock import london_date, london_midnight, london_today
from elysium.kit.deps import SettingsDep
from elysium.kit.pagination import DayQuery

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])


def _span(view: str, day: date) -> tuple[date, int]:
    """The first day shown and how many: the day itself, or its Monday-to-Sunday week."""
    if view == "week":
        return day - timedelta(days=day.weekday()), 7
    return day, 1


@router.get("/consultations")
async def calendar(
    request: Request,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
    view: Literal["day", "week"] = "week",
    day: DayQuery = None,
) -> Response:
    day = day or london_today()
    first, count = _span(view, day)
    bookings = await service.consultations_between(
        session, london_midnight(first), london_midnight(first + timedelta(days=count))
    )
    days = [first + timedelta(days=n) for n in range(count)]
    by_day = {d: [b for b in bookings if london_date(b.starts_at) == d] for d in days}
    free = await service.free_slots(session, settings, None, None) if view == "day" else []
    step = timedelta(days=count)
    return render(
        request,
        "consultations.html",
        staff,
        view=view,
        day=day,
        days=days,
        by_day=by_day,
        free=free,
        previous=first - step,
        following=first + step,
        today=london_today(),
    )


@router.post("/consultations/{consultation_id}/cancel")
async def cancel(
    request: Request,
    consultation_id: uuid.UUID,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    form = await form_fields(request)
    await service.cancel_for_client(session, settings, staff, consultation_id)
    day = form.get("date")
    return back_to(f"/admin/consultations?view=day&date={day}" if day else "/admin/consultations")


@router.post("/consultations/{consultation_id}/reschedule")
async def reschedule(
    request: Request,
    consultation_id: uuid.UUID,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Move a booking to `starts_at`, one of the free slots offered on the page."""
    form = await form_fields(request)
    wanted = parse(ConsultationMove, {"starts_at": required(form, "starts_at")})
    moved = await service.reschedule(session, settings, staff, consultation_id, wanted.starts_at)
    return back_to(f"/admin/consultations?view=day&date={london_date(moved.starts_at)}")
