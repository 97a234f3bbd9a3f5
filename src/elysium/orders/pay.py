"""Paying an order: starting (or resuming) the payment of an unpaid order with the gateway."""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.errors import ConflictError
from elysium.models import User
from elysium.models.order import OrderPaymentStatus, OrderStatus
from elysium.orders.read import visible_order
from elysium.orders.state import UNPAID
from elysium.payments import service as payments
from elysium.payments.gateway import PaymentGateway
from elysium.payments.schemas import PaymentRead


class Payable(Protocol):
    """What paying an order needs: an `Order`, or a placed order's frozen read model."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def order_number(self) -> str: ...
    @property
    def status(self) -> OrderStatus: ...
    @property
    def payment_status(self) -> OrderPaymentStatus: ...
    @property
    def payment_provider(self) -> str: ...
    @property
    def total_pence(self) -> int: ...
    @property
    def currency(self) -> str: ...


async def start_order_payment(
    session: AsyncSession,
    gateway: PaymentGateway,
    order: Payable,
    customer_email: str,
    saved_card: payments.SavedCardCharge | None = None,
) -> PaymentRead:
    """The payment of an unpaid order, started or looked up again; a paid or closed order
    answers with its payment status. With a provider that is called, only after the order
    has committed, and never while a lock is held."""
    if order.status not in UNPAID:
        return PaymentRead(provider=order.payment_provider, status=order.payment_status)
    request = payments.PaymentRequest(
        order_id=order.id,
        order_number=order.order_number,
        amount_pence=order.total_pence,
        currency=order.currency,
        customer_email=customer_email,
        saved_card=saved_card,
    )
    return await payments.start_payment(
        session, gateway, request, retry_url=f"/api/orders/{order.id}/pay"
    )


async def retry_payment(
    session: AsyncSession, gateway: PaymentGateway, user: User, order_id: uuid.UUID
) -> PaymentRead:
    """Start (or resume) paying an unpaid order; 409 once it is paid or closed."""
    order = await visible_order(session, user, order_id)
    if order.status not in UNPAID:
        raise ConflictError(f"This order is {order.status}; there is nothing to pay.")
    return await start_order_payment(session, gateway, order, user.email)
