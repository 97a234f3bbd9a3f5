"""The morning low-stock digest: the variants at or below their threshold, emailed to staff."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.inventory.schemas import LowStockRead
from elysium.inventory.service import low_stock
from elysium.kit.clock import utcnow
from elysium.notifications.emails import notify_staff

LOW_STOCK_DIGEST_LIMIT = 100
LOW_STOCK_FIELDS = (
    "product_title",
    "product_slug",
    "variant_key",
    "available",
    "stock_level",
    "reserved",
    "low_stock_threshold",
)


def _low_stock_row(item: LowStockRead) -> dict[str, Any]:
    row = item.model_dump()
    values = {name: row[name] for name in LOW_STOCK_FIELDS if name in row}
    values.setdefault("product_title", values["product_slug"])
    return values


async def send_low_stock_digest(session: AsyncSession, settings: Settings) -> int:
    """Email the atelier the variants at or below their threshold (once a day at most)."""
    items = (await low_stock(session, LOW_STOCK_DIGEST_LIMIT, None)).items
    if not items:
        return 0
    now = utcnow()
    context = {
        "variants": [_low_stock_row(item) for item in items],
        "generated_at": now,
        "admin_url": f"{settings.public_base_url.rstrip('/')}/admin/inventory",
    }
    await notify_staff(
        session,
        settings,
        template="low_stock_digest",
        context=context,
        idempotency_key=f"low-stock-digest:{now:%Y-%m-%d}",
    )
    return len(items)
