"""What the dashboard shows, gathered from each domain's own service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.admin.charts import BarChart, bar_chart
from elysium.background.service import list_jobs
from elysium.bespoke.service import list_enquiries
from elysium.consultations.schemas import ConsultationAdminRead
from elysium.consultations.service import consultations_between
from elysium.inventory.service import low_stock
from elysium.kit.clock import london_midnight
from elysium.models.bespoke import BespokeStatus
from elysium.models.order import OrderStatus
from elysium.orders.read import list_all_orders
from elysium.reports import service as reports
from elysium.reviews.service import list_reviews_for_moderation

COUNT_CAP = 100  # the dashboard says "100+" for "100 or more"
CHART_DAYS = 30


async def dashboard_counts(session: AsyncSession) -> dict[str, int]:
    """The numbers on the dashboard cards (each capped at COUNT_CAP)."""
    return {
        "pending_orders": len(
            (await list_all_orders(session, OrderStatus.PENDING, COUNT_CAP, None)).items
        ),
        "paid_orders": len(
            (await list_all_orders(session, OrderStatus.PAID, COUNT_CAP, None)).items
        ),
        "low_stock": len((await low_stock(session, COUNT_CAP, None)).items),
        "new_bespoke": len(
            (await list_enquiries(session, BespokeStatus.NEW, COUNT_CAP, None)).items
        ),
        "pending_reviews": len(
            (await list_reviews_for_moderation(session, "pending", COUNT_CAP, None)).items
        ),
        "failed_jobs": len((await list_jobs(session, "failed", limit=COUNT_CAP, cursor=None))[0]),
    }


@dataclass(frozen=True, slots=True)
class Revenue:
    """Net revenue today / this week / this month and the last 30 days' chart."""

    today: int
    week: int
    month: int
    chart: BarChart


async def revenue(session: AsyncSession, today: date) -> Revenue:
    """Net revenue (see `reports.service`) over the London days that end today."""
    chart_start = today - timedelta(days=CHART_DAYS - 1)
    first = min(chart_start, today.replace(day=1), today - timedelta(days=today.weekday()))
    days = await reports.sales_by_day(session, first, today)
    to_date = reports.revenue_to_date(days, today)
    points = [(d.day, d.net_pence) for d in days if d.day >= chart_start]
    return Revenue(to_date["today"], to_date["week"], to_date["month"], bar_chart(points))


async def todays_consultations(session: AsyncSession, today: date) -> list[ConsultationAdminRead]:
    """Booked (not cancelled) consultations of the London day."""
    found = await consultations_between(
        session, london_midnight(today), london_midnight(today + timedelta(days=1))
    )
    return [c for c in found if c.status == "booked"]
