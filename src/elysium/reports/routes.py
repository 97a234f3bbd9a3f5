"""Staff reports API (contract: "Staff API")."""

from __future__ import annotations

from fastapi import APIRouter

from elysium.accounts.deps import StaffUser
from elysium.db import ReadSessionDep
from elysium.kit.pagination import FromDayQuery, ToDayQuery
from elysium.reports import service
from elysium.reports.schemas import SalesGroup, SalesReportRead

router = APIRouter(tags=["reports"])


@router.get("/api/admin/reports/sales")
async def sales_report(
    staff: StaffUser,
    session: ReadSessionDep,
    first: FromDayQuery = None,
    last: ToDayQuery = None,
    group: SalesGroup = SalesGroup.DAY,
) -> SalesReportRead:
    """Sales over a range of Europe/London days (default the last 30, at most 366), by `day`
    (every day, zeros included: orders paid, gross, refunds, net) or by `collection` (line
    totals of paid orders). `definition` states each figure; 422 for a reversed range."""
    return await service.sales_report(session, first, last, group)
