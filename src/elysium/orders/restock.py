"""Returns to stock: the units of a sold order go back on the shelf (ledger `return`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.inventory import stock
from elysium.models import Order
from elysium.orders.history import order_items


async def return_sold_units(
    session: AsyncSession, order: Order, actor_id: uuid.UUID | None, note: str
) -> None:
    """Put every stock-limited unit of a (locked) sold order back; made-to-order lines have none."""
    lines = [
        line
        for line in await order_items(session, order.id)
        if not line.made_to_order and line.product_id is not None
    ]
    if not lines:
        return
    refs = {(line.product_id, line.variant_key) for line in lines if line.product_id is not None}
    items = await stock.ensure_and_lock_items(session, refs)
    for line in lines:
        assert line.product_id is not None
        await stock.move(
            session,
            items[(line.product_id, line.variant_key)],
            reason="return",
            delta=line.quantity,
            actor_id=actor_id,
            order_id=order.id,
            note=note,
        )
