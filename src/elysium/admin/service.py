"""What the staff pages show, gathered from each domain's own service."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.background.service import list_jobs
from elysium.bespoke.service import list_enquiries
from elysium.consultations.service import upcoming_consultations
from elysium.inventory.service import low_stock
from elysium.models.order import OrderStatus
from elysium.notifications.email.templates import format_london_datetime
from elysium.orders.read import list_all_orders
from elysium.reviews.service import list_reviews_for_moderation

COUNT_CAP = 100  # the dashboard says "100" for "100 or more"


async def dashboard_counts(session: AsyncSession) -> dict[str, int]:
    """The numbers on the dashboard cards."""
    return {
        "pending_orders": len(
            (await list_all_orders(session, OrderStatus.PENDING, COUNT_CAP, None)).items
        ),
        "paid_orders": len(
            (await list_all_orders(session, OrderStatus.PAID, COUNT_CAP, None)).items
        ),
        "low_stock": len((await low_stock(session, COUNT_CAP, None)).items),
        "new_bespoke": len((await list_enquiries(session, "new", COUNT_CAP, None)).items),
        "pending_reviews": len(
            (await list_reviews_for_moderation(session, "pending", COUNT_CAP, None)).items
        ),
        "failed_jobs": len((await list_jobs(session, "failed", limit=COUNT_CAP, cursor=None))[0]),
    }


async def low_stock_rows(session: AsyncSession) -> list[dict[str, Any]]:
    """Variants at or below their threshold."""
    return [row.model_dump() for row in (await low_stock(session, COUNT_CAP, None)).items]


async def bespoke_rows(session: AsyncSession) -> list[dict[str, Any]]:
    """The latest bespoke enquiries."""
    page = await list_enquiries(session, None, COUNT_CAP, None)
    return [row.model_dump(mode="json") for row in page.items]


async def review_rows(session: AsyncSession) -> list[dict[str, Any]]:
    """Reviews waiting for moderation."""
    page = await list_reviews_for_moderation(session, "pending", COUNT_CAP, None)
    return [row.model_dump(mode="json") for row in page.items]


async def failed_job_rows(session: AsyncSession) -> list[dict[str, Any]]:
    """Jobs that used up their retries."""
    return (await list_jobs(session, "failed", limit=COUNT_CAP, cursor=None))[0]


async def consultation_rows(session: AsyncSession) -> list[dict[str, Any]]:
    """Booked consultations still to come, soonest first, in London time."""
    return [
        row.model_dump(mode="json") | {"starts_at": format_london_datetime(row.starts_at)}
        for row in await upcoming_consultations(session, COUNT_CAP)
    ]
