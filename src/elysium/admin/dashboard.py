"""The back office's front page: money, work waiting, today's diary."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from elysium.accounts.deps import StaffUser
from elysium.admin import service
from elysium.admin.pages import render
from elysium.admin.security import csrf_protect
from elysium.db import ReadSessionDep
from elysium.kit.clock import london_today
from elysium.orders.read import list_all_orders
from elysium.reports.service import SALES_DEFINITION

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])


@router.get("")
async def dashboard(request: Request, staff: StaffUser, session: ReadSessionDep) -> Response:
    today = london_today()
    return render(
        request,
        "dashboard.html",
        staff,
        today=today,
        counts=await service.dashboard_counts(session),
        cap=service.COUNT_CAP,
        revenue=await service.revenue(session, today),
        definition=SALES_DEFINITION,
        consultations=await service.todays_consultations(session, today),
        orders=(await list_all_orders(session, None, 10, None)).items,
    )
