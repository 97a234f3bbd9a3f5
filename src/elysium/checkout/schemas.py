"""Request and response bodies of the checkout API."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from elysium.kit.schemas import Strict
from elysium.orders.schemas import OrderRead, PaymentRead
from elysium.shipping.service import ShippingMethod


class CheckoutRequest(Strict):
    """Addresses come from the customer's own address book; prices are never sent."""

    shipping_address_id: uuid.UUID
    billing_address_id: uuid.UUID
    shipping_method: ShippingMethod | None = None


class CheckoutResponse(BaseModel):
    order: OrderRead
    payment: PaymentRead
