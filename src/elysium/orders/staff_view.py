"""What staff see of one order: the order, its customer, every payment and refund, the notes,
and the actions the state machine allows from where it is now."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.models import Payment, Refund, User
from elysium.models.order import OrderStatus
from elysium.models.user import Role
from elysium.orders.history import order_customer
from elysium.orders.notes import list_notes
from elysium.orders.read import read_order, visible_order
from elysium.orders.schemas import OrderNoteRead, OrderRead
from elysium.orders.state import (
    CANCELLED,
    DELIVERED,
    FULFILLED,
    MONEY_KEPT,
    PAID,
    SHIPPED,
    can_transition,
)


class OrderAction(StrEnum):
    """The buttons of the order page (their names are the browser tests' hooks)."""

    MARK_PAID = "mark-paid"
    FULFIL = "fulfil"
    SHIP = "ship"
    DELIVER = "deliver"
    CANCEL = "cancel"
    REFUND = "refund"


MOVES: dict[OrderAction, OrderStatus] = {
    OrderAction.MARK_PAID: PAID,
    OrderAction.FULFIL: FULFILLED,
    OrderAction.SHIP: SHIPPED,
    OrderAction.DELIVER: DELIVERED,
    OrderAction.CANCEL: CANCELLED,
}
"""The status each state-machine action moves the order to."""


@dataclass(frozen=True)
class StaffOrderView:
    order: OrderRead
    customer: User
    payments: list[Payment]
    refunds: list[Refund]
    notes: list[OrderNoteRead]
    actions: list[OrderAction]


def allowed_actions(order: OrderRead, staff: User) -> list[OrderAction]:
    """The actions open from the order's status; refunds only for administrators, and only
    while the house holds money for the order."""
    actions = [a for a, target in MOVES.items() if can_transition(order.status, target)]
    if (
        staff.role == Role.ADMIN
        and order.payment_status in MONEY_KEPT
        and order.status != CANCELLED
    ):
        actions.append(OrderAction.REFUND)
    return actions


async def staff_order_view(
    session: AsyncSession, staff: User, order_id: uuid.UUID
) -> StaffOrderView:
    """The order page's data (404 for no such order)."""
    order = await visible_order(session, staff, order_id)
    read = await read_order(session, order)
    payments = await session.scalars(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.created_at)
    )
    refunds = await session.scalars(
        select(Refund).where(Refund.order_id == order.id).order_by(Refund.created_at)
    )
    return StaffOrderView(
        order=read,
        customer=await order_customer(session, order),
        payments=list(payments),
        refunds=list(refunds),
        notes=await list_notes(session, order.id),
        actions=allowed_actions(read, staff),
    )
