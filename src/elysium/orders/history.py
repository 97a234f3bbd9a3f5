"""Loading orders and moving them through the state machine, with a history entry each time."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.errors import NotFoundError
from elysium.kit.clock import utcnow
from elysium.models import Order, OrderItem, OrderStatusChange, User
from elysium.models.order import OrderStatus
from elysium.orders.state import ensure_transition

SYSTEM = "system"
PROVIDER = "payment provider"


def actor_label(user: User | None) -> str:
    """How the history names who acted: the role of a person, else the system."""
    return SYSTEM if user is None else user.role


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    """The order row, locked for this transaction (always before any stock row)."""
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFoundError("No such order.")
    return order


async def order_items(session: AsyncSession, order_id: uuid.UUID) -> list[OrderItem]:
    """The order's lines in the order they were placed."""
    rows = await session.scalars(
        select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.position)
    )
    return list(rows)


async def order_customer(session: AsyncSession, order: Order) -> User:
    """The customer who placed the order."""
    user = await session.get(User, order.user_id)
    if user is None:
        raise NotFoundError("The order's customer no longer exists.")
    return user


def history_entry(
    order: Order,
    *,
    by: str,
    actor_id: uuid.UUID | None,
    note: str | None,
    at: datetime | None = None,
) -> OrderStatusChange:
    """The history row recording the order's current status."""
    return OrderStatusChange(
        order_id=order.id,
        status=order.status,
        at=at or utcnow(),
        by=by,
        actor_id=actor_id,
        note=note,
    )


async def move_order(
    session: AsyncSession,
    order: Order,
    status: OrderStatus,
    *,
    by: str,
    actor_id: uuid.UUID | None = None,
    note: str | None = None,
) -> None:
    """Change the (locked) order's status if the table allows it (else 409), with history."""
    ensure_transition(order.status, status)
    order.status = status
    session.add(history_entry(order, by=by, actor_id=actor_id, note=note))
    await session.flush()
