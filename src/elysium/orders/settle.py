"""Settling a payment: money received for an order (a provider's webhook, or staff confirming
a bank transfer). Idempotent: a repeat changes nothing.

Read top to bottom: lock the order, record the payment, convert the reservation into a sale,
move the status, tell the customer. Money that cannot be kept (a closed order, a second
payment, a wrong amount, a reservation that lapsed first) is set aside for a refund.

An order paid in instalments (`orders/schedule.py`) takes its deposit (the order becomes
PAID, `deposit_paid`, and goes into production) and then its balance (`paid`, invoiced);
the amount received says which instalment it settles.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.inventory import reservations
from elysium.kit.clock import utcnow
from elysium.models import Order, Payment
from elysium.models.inventory import ReservationOwner
from elysium.models.order import OrderPaymentStatus
from elysium.orders import events, invoice, refund, schedule
from elysium.orders.cancel import Closing, close_order
from elysium.orders.history import PROVIDER, lock_order, move_order, order_customer, order_items
from elysium.orders.state import PAID
from elysium.payments import service as payments

log = structlog.get_logger(__name__)


class Settlement(StrEnum):
    PAID = "paid"
    ALREADY_SETTLED = "already_settled"
    REFUND_DUE = "refund_due"  # money arrived for an order that cannot take it


async def settle_payment(
    session: AsyncSession,
    settings: Settings,
    *,
    order_id: uuid.UUID,
    provider: str,
    provider_payment_id: str,
    amount_pence: int,
    by: str,
    actor_id: uuid.UUID | None = None,
    note: str | None = None,
) -> Settlement:
    """Record money received for an order: PAID, reservation -> sale, customer told."""
    order = await lock_order(session, order_id)
    received = await payments.record_success(
        session,
        order_id=order.id,
        provider=provider,
        provider_payment_id=provider_payment_id,
        amount_pence=amount_pence,
        currency=order.currency,
    )
    if received.repeat:
        return Settlement.ALREADY_SETTLED
    due = schedule.amount_due(order)
    if due == 0:
        return await _refund_due(
            session, settings, order, received.payment, f"payment for a {order.status} order"
        )
    if order.payment_status == OrderPaymentStatus.DEPOSIT_PAID:
        if amount_pence != due:
            return await _refund_due(
                session, settings, order, received.payment, "amount differs from the balance due"
            )
        return await _paid_in_full(session, settings, order)
    deposit = order.deposit_pence is not None and amount_pence == order.deposit_pence
    if amount_pence != order.total_pence and not deposit:
        return await _refund_due(
            session, settings, order, received.payment, "amount differs from the order total"
        )
    if not await _sell_reserved_stock(session, order, actor_id):
        await close_order(
            session,
            settings,
            order,
            why=Closing.PAID_TOO_LATE,
            actor=None,
            note="Paid after the reservation lapsed",
        )
        return await _refund_due(
            session, settings, order, received.payment, "reservation lapsed before payment"
        )
    order.paid_at = utcnow()
    await move_order(session, order, PAID, by=by, actor_id=actor_id, note=note)
    if deposit and amount_pence != order.total_pence:
        order.payment_status = OrderPaymentStatus.DEPOSIT_PAID
        customer = await order_customer(session, order)
        await events.instalment_received(session, settings, customer, order, amount_pence)
        return Settlement.PAID
    return await _paid_in_full(session, settings, order)


async def _paid_in_full(session: AsyncSession, settings: Settings, order: Order) -> Settlement:
    """Every instalment in: `paid`, the VAT invoice numbered, the confirmation sent with it."""
    order.payment_status = OrderPaymentStatus.PAID
    await invoice.issue_invoice(session, order)
    await session.flush()
    customer = await order_customer(session, order)
    await events.order_paid(
        session, settings, customer, order, await order_items(session, order.id)
    )
    return Settlement.PAID


async def _sell_reserved_stock(
    session: AsyncSession, order: Order, actor_id: uuid.UUID | None
) -> bool:
    """Turn the reservation into a sale; False (and nothing sold) when units have lapsed."""
    wanted = sum(i.quantity for i in await order_items(session, order.id) if not i.made_to_order)
    savepoint = await session.begin_nested()
    sold = await reservations.convert_to_sale(
        session,
        owner_type=ReservationOwner.ORDER,
        owner_id=order.id,
        order_id=order.id,
        actor_id=actor_id,
    )
    if sold >= wanted:
        await savepoint.commit()
        return True
    await savepoint.rollback()
    return False


async def _refund_due(
    session: AsyncSession, settings: Settings, order: Order, payment: Payment, why: str
) -> Settlement:
    """Money that cannot be kept: a full refund of it set aside (paid out by a job), audited."""
    if order.payment_status in (OrderPaymentStatus.UNPAID, OrderPaymentStatus.FAILED):
        order.payment_status = OrderPaymentStatus.PAID
    await refund.set_aside(
        session,
        settings,
        order,
        payment,
        amount_pence=payment.amount_pence,
        reason=why,
        idempotency_key=f"unclaimed:{payment.id}",
        actor_id=None,
        by=PROVIDER,
    )
    await record_event(
        session,
        "payment.refund_due",
        actor_id=None,
        target_type="order",
        target_id=order.id,
        details={"payment_id": str(payment.id), "reason": why, "status": order.status},
    )
    log.warning("payment_refund_due", order_id=str(order.id), reason=why)
    return Settlement.REFUND_DUE
