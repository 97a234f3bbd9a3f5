"""Request and response bodies of the checkout API."""

from __future__ import annotations

from pydantic import BaseModel

from elysium.orders.schemas import CheckoutRequest, OrderRead
from elysium.payments.schemas import PaymentRead

__all__ = ["CheckoutRequest", "CheckoutResponse"]


class CheckoutResponse(BaseModel):
    order: OrderRead
    payment: PaymentRead
