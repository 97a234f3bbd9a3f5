"""Request and response bodies of the orders API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from elysium.kit.money import Money
from elysium.kit.schemas import Strict
from elysium.models.order import OrderPaymentStatus, OrderStatus, ShippingMethod
from elysium.models.payment import PaymentState, RefundState

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class OrderItemRead(BaseModel):
    product_slug: str
    title: str
    configuration: dict[str, Any]
    variant_key: str
    quantity: int
    unit_price: Money
    line_total: Money


class StatusChangeRead(BaseModel):
    status: OrderStatus
    at: datetime
    by: str
    note: str | None


class PaymentSummary(BaseModel):
    provider: str
    status: PaymentState
    amount: Money
    refunded: Money


class OrderRead(BaseModel):
    id: uuid.UUID
    order_number: str
    status: OrderStatus
    payment_status: OrderPaymentStatus
    items: list[OrderItemRead]
    subtotal: Money
    discount: Money
    shipping: Money
    vat: Money
    total: Money
    coupon_code: str | None
    shipping_method: ShippingMethod
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any]
    carrier: str | None
    tracking_number: str | None
    reservation_expires_at: datetime
    status_history: list[StatusChangeRead]
    created_at: datetime
    payment: PaymentSummary | None


class OrderSummary(BaseModel):
    """One row of the order list."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_number: str
    status: OrderStatus
    payment_status: OrderPaymentStatus
    total: Money
    created_at: datetime


class CheckoutRequest(Strict):
    """Addresses come from the customer's own address book; prices are never sent."""

    shipping_address_id: uuid.UUID
    billing_address_id: uuid.UUID
    shipping_method: ShippingMethod | None = None


class StatusChange(Strict):
    """A staff status change; `carrier` and `tracking_number` go with SHIPPED."""

    status: OrderStatus
    note: Note | None = None
    carrier: ShortText | None = None
    tracking_number: ShortText | None = None


class CancelRequest(Strict):
    reason: Note | None = None


class RefundRequest(Strict):
    """`amount` omitted: refund everything not yet refunded."""

    amount: Money | None = None
    reason: Note


class RefundRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    amount: Money
    reason: str
    status: RefundState
    created_at: datetime
    order_status: OrderStatus
    payment_status: OrderPaymentStatus


class StaffOrderSummary(OrderSummary):
    """One row of the staff order list: the order and who placed it."""

    customer_id: uuid.UUID
    customer_email: str
    customer_name: str | None


class OrderNoteRead(BaseModel):
    id: uuid.UUID
    body: str
    author_id: uuid.UUID | None
    author_email: str | None
    created_at: datetime


class OrderNoteWrite(Strict):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
