"""Staff reports API (contract: "Staff API")."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from elysium.accounts.deps import StaffUser
from elysium.db import SessionDep
from elysium.reports import service
from elysium.reports.schemas import SalesGroup, SalesReportRead

router = APIRouter(tags=["reports"])


@router.get("/api/admin/reports/sales")
async def sales_report(
    staff: StaffUser,
    session: SessionDep,
    first: Annotated[date | None, Query(alias="from", description="First London day.")] = None,
    last: Annotated[date | None, Query(alias="to", description="Last London day.")] = None,
    group: SalesGroup = SalesGroup.DAY,
) -> SalesReportRead:
    """Sales over a range of Europe/London days (default the last 30, at most 366), by `day`
    (every day, zeros included: orders paid, gross, refunds, net) or by `collection` (line
    totals of paid orders). `definition` states each figure; 422 for a reversed range."""
    return await service.sales_report(session, first, last, group)
