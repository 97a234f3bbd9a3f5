"""Paying an order: starting (or resuming) the payment of what an order has due (all of it,
or its next instalment) with the gateway."""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.errors import ConflictError
from elysium.models import User
from elysium.models.order import OrderPaymentStatus, OrderStatus
from elysium.orders.read import visible_order
from elysium.orders.schedule import amount_due
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
    @property
    def deposit_pence(self) -> int | None: ...


async def start_order_payment(
    session: AsyncSession,
    gateway: PaymentGateway,
    order: Payable,
    customer_email: str,
    saved_card: payments.SavedCardCharge | None = None,
) -> PaymentRead:
    """The payment of what the order has due (its total, or its next instalment), started or
    looked up again; an order with nothing due answers with its payment status. With a
    provider that is called, only after the order has committed, and never while a lock is
    held."""
    due = amount_due(order)
    if due == 0:
        return PaymentRead(provider=order.payment_provider, status=order.payment_status)
    request = payments.PaymentRequest(
        order_id=order.id,
        order_number=order.order_number,
        amount_pence=due,
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
    """Start (or resume) paying what an order has due; 409 once it is paid or closed."""
    order = await visible_order(session, user, order_id)
    if amount_due(order) == 0:
        raise ConflictError(f"This order is {order.status}; there is nothing to pay.")
    return await start_order_payment(session, gateway, order, user.email)
