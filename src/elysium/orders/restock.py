"""Returns to stock: the units of a sold order go back on the shelf (ledger `return`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.inventory import stock
from elysium.models import Order, OrderItem
from elysium.orders.history import order_items


async def restock_lines(
    session: AsyncSession,
    order: Order,
    lines: Sequence[tuple[OrderItem, int]],
    actor_id: uuid.UUID | None,
    note: str,
) -> None:
    """Put `quantity` units of each stock-limited line of a (locked) sold order back;
    made-to-order lines have none."""
    kept = [
        (line, quantity)
        for line, quantity in lines
        if not line.made_to_order and line.product_id is not None
    ]
    if not kept:
        return
    refs = {(line.product_id, line.variant_key) for line, _ in kept if line.product_id is not None}
    items = await stock.ensure_and_lock_items(session, refs)
    for line, quantity in kept:
        assert line.product_id is not None
        await stock.move(
            session,
            items[(line.product_id, line.variant_key)],
            reason="return",
            delta=quantity,
            actor_id=actor_id,
            order_id=order.id,
            note=note,
        )


async def return_sold_units(
    session: AsyncSession, order: Order, actor_id: uuid.UUID | None, note: str
) -> None:
    """Put every stock-limited unit of a (locked) sold order back."""
    lines = await order_items(session, order.id)
    await restock_lines(session, order, [(line, line.quantity) for line in lines], actor_id, note)
