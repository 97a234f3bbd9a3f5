"""Staff moving an order along the state machine (audited)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.errors import ConflictError
from elysium.models import Order, User
from elysium.models.order import OrderPaymentStatus
from elysium.orders import events
from elysium.orders.cancel import Closing, close_order
from elysium.orders.history import actor_label, lock_order, move_order, order_customer
from elysium.orders.read import read_order
from elysium.orders.schedule import amount_due
from elysium.orders.schemas import OrderRead, StatusChange
from elysium.orders.settle import settle_payment
from elysium.orders.state import CANCELLED, PAID, REFUNDED, SHIPPED, ensure_transition
from elysium.payments.service import BANK_TRANSFER, MANUAL, bank_reference


async def change_status(
    session: AsyncSession, settings: Settings, staff: User, order_id: uuid.UUID, data: StatusChange
) -> OrderRead:
    """Staff move an order along the state machine (409 when the table forbids it); audited.

    PAID confirms the payment as a provider's webhook would (for an order paid in
    instalments, everything still due: it is then fully paid); CANCELLED closes the order as
    the cancel endpoint does; SHIPPED records the carrier and tracking number and emails the
    customer, and needs the order fully paid. Refunds go through the refund endpoint.
    """
    order = await lock_order(session, order_id)
    before = order.status
    if data.status == PAID and order.payment_status == OrderPaymentStatus.DEPOSIT_PAID:
        await _confirm_balance(session, settings, staff, order, data.note)
    elif data.status == PAID:
        await _confirm_payment(session, settings, staff, order, data.note)
    elif data.status == CANCELLED:
        note = data.note or "Cancelled by the atelier"
        await close_order(session, settings, order, why=Closing.STAFF, actor=staff, note=note)
    elif data.status == REFUNDED:
        raise ConflictError("Refunds move money: use POST /api/orders/{id}/refund.")
    else:
        await _move(session, settings, staff, order, data)
    await record_event(
        session,
        "order.status_changed",
        actor_id=staff.id,
        target_type="order",
        target_id=order.id,
        details={"from": str(before), "to": str(order.status), "note": data.note},
    )
    return await read_order(session, order)


async def _confirm_payment(
    session: AsyncSession, settings: Settings, staff: User, order: Order, note: str | None
) -> None:
    """Staff confirm the money arrived (a bank transfer, or paid another way)."""
    ensure_transition(order.status, PAID)
    bank = order.payment_provider == BANK_TRANSFER
    await settle_payment(
        session,
        settings,
        order_id=order.id,
        provider=BANK_TRANSFER if bank else MANUAL,
        provider_payment_id=(
            bank_reference(order.order_number) if bank else f"manual:{order.order_number}"
        ),
        amount_pence=order.total_pence,
        by=actor_label(staff),
        actor_id=staff.id,
        note=note or "Payment confirmed by the atelier",
    )


async def _confirm_balance(
    session: AsyncSession, settings: Settings, staff: User, order: Order, note: str | None
) -> None:
    """Staff confirm the balance of an instalment order arrived: it is fully paid."""
    await settle_payment(
        session,
        settings,
        order_id=order.id,
        provider=MANUAL,
        provider_payment_id=f"manual:{order.order_number}:balance",
        amount_pence=amount_due(order),
        by=actor_label(staff),
        actor_id=staff.id,
        note=note or "Balance confirmed by the atelier",
    )


async def _move(
    session: AsyncSession, settings: Settings, staff: User, order: Order, data: StatusChange
) -> None:
    if data.status == SHIPPED and order.payment_status == OrderPaymentStatus.DEPOSIT_PAID:
        raise ConflictError(
            "The balance of this order is not paid yet: it cannot be shipped.",
            extra={"payment_status": str(order.payment_status)},
        )
    if data.status == SHIPPED:
        order.carrier = data.carrier or order.carrier
        order.tracking_number = data.tracking_number or order.tracking_number
    await move_order(
        session, order, data.status, by=actor_label(staff), actor_id=staff.id, note=data.note
    )
    if data.status == SHIPPED:
        await events.order_shipped(session, settings, await order_customer(session, order), order)
