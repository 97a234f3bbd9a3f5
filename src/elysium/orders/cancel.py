"""Closing an order: the one `close_order` behind every way an order ends before fulfilment,
and the use cases that call it (a customer's or staff's cancellation, the expiry job).

The order row is always locked first, then (inside inventory) the stock rows.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.inventory import reservations
from elysium.kit.clock import utcnow
from elysium.models import Order, Refund, User
from elysium.models.inventory import ReservationOwner
from elysium.orders import events, refund, restock
from elysium.orders.history import PROVIDER, actor_label, lock_order, move_order, order_customer
from elysium.orders.read import read_order, visible_order
from elysium.orders.schemas import OrderRead
from elysium.orders.state import CANCELLED, MONEY_KEPT, PAYMENT_FAILED, PENDING, ensure_transition
from elysium.promotions import service as promotions

EXPIRY_BATCH = 200
EXPIRABLE = (PENDING, PAYMENT_FAILED)
"""Unpaid statuses that lapse with their reservation (PROCESSING waits for the provider)."""


class Closing(StrEnum):
    """Why an order is closed; decides who the history names and what the customer hears."""

    CUSTOMER = "customer"
    STAFF = "staff"
    EXPIRED = "expired"  # unpaid when its reservation ran out
    PAID_TOO_LATE = "paid_too_late"  # money arrived after the reservation had lapsed


LAPSED = frozenset({Closing.EXPIRED, Closing.PAID_TOO_LATE})


def _closed_by(why: Closing, actor: User | None) -> str:
    return PROVIDER if why == Closing.PAID_TOO_LATE else actor_label(actor)


async def close_order(
    session: AsyncSession,
    settings: Settings,
    order: Order,
    *,
    why: Closing,
    actor: User | None,
    note: str,
) -> Refund | None:
    """CANCELLED (409 when the state machine forbids it), for any cause, on a locked order:
    the stock goes back (a sale is returned, a reservation released), the coupon is given back,
    the history records it, money kept is set aside for a refund (paid out by a job) and the
    customer is told. Returns that refund, if any."""
    actor_id = None if actor is None else actor.id
    ensure_transition(order.status, CANCELLED)
    sold = order.payment_status in MONEY_KEPT
    if sold:
        await restock.return_sold_units(
            session, order, actor_id, f"order {order.order_number} cancelled"
        )
    else:
        await reservations.release(
            session,
            owner_type=ReservationOwner.ORDER,
            owner_id=order.id,
            reason=note,
            actor_id=actor_id,
        )
    await promotions.release_coupon(session, order_id=order.id)
    order.cancelled_at = utcnow()
    await move_order(
        session, order, CANCELLED, by=_closed_by(why, actor), actor_id=actor_id, note=note
    )
    money_back = (
        await refund.refund_the_rest(
            session,
            settings,
            order,
            reason="Order cancelled",
            key=f"cancel:{order.id}",
            actor_id=actor_id,
            by=_closed_by(why, actor),
        )
        if sold
        else None
    )
    customer = await order_customer(session, order)
    owed = 0 if money_back is None else money_back.amount_pence
    await events.order_cancelled(session, settings, customer, order, owed, lapsed=why in LAPSED)
    return money_back


async def cancel_order(
    session: AsyncSession,
    settings: Settings,
    actor: User,
    order_id: uuid.UUID,
    reason: str | None,
) -> OrderRead:
    """Cancel before fulfilment (owner or staff): stock back, coupon back, refunded when paid.

    404 for another customer's order, 409 once the order is fulfilled or closed. Staff
    cancellations are audited.
    """
    await visible_order(session, actor, order_id)
    order = await lock_order(session, order_id)
    why = Closing.STAFF if actor.is_staff else Closing.CUSTOMER
    note = reason or (
        "Cancelled by the atelier" if why == Closing.STAFF else "Cancelled by the customer"
    )
    money_back = await close_order(session, settings, order, why=why, actor=actor, note=note)
    if why == Closing.STAFF:
        await record_event(
            session,
            "order.cancelled",
            actor_id=actor.id,
            target_type="order",
            target_id=order.id,
            details={"note": note, "refund_id": "" if money_back is None else str(money_back.id)},
        )
    return await read_order(session, order)


async def expire_unpaid_orders(session: AsyncSession, settings: Settings) -> int:
    """Close unpaid orders whose reservation has run out (up to a batch); returns how many.

    Safe to run concurrently: rows being changed by someone else are skipped this time.
    """
    due = await session.scalars(
        select(Order)
        .where(Order.status.in_(EXPIRABLE), Order.reservation_expires_at <= utcnow())
        .order_by(Order.reservation_expires_at)
        .limit(EXPIRY_BATCH)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    orders = list(due)
    for order in orders:
        await _expire(session, settings, order)
    return len(orders)


async def close_orders_of_lapsed_holds(
    session: AsyncSession, settings: Settings, order_ids: list[uuid.UUID]
) -> int:
    """Close the unpaid orders among `order_ids` (owners of reservations that have just been
    expired); returns how many were closed."""
    closed = 0
    for order_id in order_ids:
        order = await lock_order(session, order_id)
        if order.status in EXPIRABLE:
            await _expire(session, settings, order)
            closed += 1
    return closed


async def _expire(session: AsyncSession, settings: Settings, order: Order) -> None:
    await close_order(
        session, settings, order, why=Closing.EXPIRED, actor=None, note="Reservation expired"
    )
