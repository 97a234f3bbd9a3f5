"""A payment attempt that failed, or that the provider is still deciding.

The stock stays held while the reservation lasts, so the customer can try again.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.models.order import OrderPaymentStatus
from elysium.orders import events
from elysium.orders.history import PROVIDER, lock_order, move_order, order_customer
from elysium.orders.state import PAYMENT_FAILED, PROCESSING, UNPAID, can_transition
from elysium.payments import service as payments


async def record_payment_failure(
    session: AsyncSession,
    settings: Settings,
    *,
    order_id: uuid.UUID,
    provider_payment_id: str,
    reason: str | None,
) -> None:
    """PAYMENT_FAILED for an unpaid order, and the customer told how to retry.

    A failure reported after the order was paid or closed is only noted on the payment.
    """
    order = await lock_order(session, order_id)
    await payments.record_failure(session, provider_payment_id, reason)
    if order.status not in UNPAID or order.status == PAYMENT_FAILED:
        return
    order.payment_status = OrderPaymentStatus.FAILED
    await move_order(session, order, PAYMENT_FAILED, by=PROVIDER, note=reason)
    customer = await order_customer(session, order)
    await events.payment_failed(
        session, settings, customer, order, reason, attempt=provider_payment_id
    )


async def record_payment_processing(
    session: AsyncSession, *, order_id: uuid.UUID, provider_payment_id: str
) -> None:
    """PROCESSING while the provider decides (e.g. a card under review): not expired meanwhile."""
    order = await lock_order(session, order_id)
    await payments.record_processing(session, provider_payment_id)
    if can_transition(order.status, PROCESSING):
        await move_order(session, order, PROCESSING, by=PROVIDER, note="The payment is processing")
