"""Request and response bodies of the orders API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from elysium.kit.money import Money
from elysium.kit.schemas import Strict
from elysium.kit.vat import VatTreatment
from elysium.models.order import OrderPaymentStatus, OrderStatus, ShippingMethod
from elysium.models.payment import PaymentState, RefundState
from elysium.models.returns import ReturnStatus

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class OrderItemRead(BaseModel):
    id: uuid.UUID | None = Field(
        None, description="The line's id: returns and care plans name it (`order_item_id`)."
    )
    product_slug: str
    title: str
    configuration: dict[str, Any]
    variant_key: str
    quantity: int
    unit_price: Money
    line_total: Money
    made_to_order: bool = False


class PaymentDue(BaseModel):
    """One instalment of the order's money: `full` for an order paid at once; a bespoke
    commission has a `deposit` due now and a `balance` due before shipping."""

    kind: Literal["full", "deposit", "balance"]
    amount: Money
    paid: Money
    due: Literal["now", "before_shipping"]


class CreditNoteRead(BaseModel):
    number: str
    invoice_number: str
    amount: Money
    vat: Money
    reason: str
    issued_at: datetime
    url: str


class ReturnLineRead(BaseModel):
    order_item_id: uuid.UUID
    quantity: int


class ReturnRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    status: ReturnStatus
    reason: str
    note: str | None
    restocked: bool | None
    lines: list[ReturnLineRead]
    created_at: datetime
    updated_at: datetime


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
    vat_treatment: VatTreatment = VatTreatment.STANDARD
    vat_rate: int = Field(20, description="The VAT rate charged, in percent (0 for exports).")
    gift_message: str | None = None
    payments_due: list[PaymentDue] = Field(default_factory=list)
    invoice_number: str | None = None
    credit_notes: list[CreditNoteRead] = Field(default_factory=list)
    returns: list[ReturnRead] = Field(default_factory=list)


class OrderSummary(BaseModel):
    """One row of the order list."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_number: str
    status: OrderStatus
    payment_status: OrderPaymentStatus
    total: Money
    created_at: datetime


GiftMessage = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class CheckoutRequest(Strict):
    """Addresses come from the customer's own address book; prices are never sent. The VAT
    treatment follows the shipping address: outside the UK VAT area (GB, IM) the order is a
    zero-rated export, every amount charged net of VAT."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "shipping_address_id": "6f1c1f3e-3c1e-4a9e-9c55-1f0e7a2b9d01",
                    "billing_address_id": "6f1c1f3e-3c1e-4a9e-9c55-1f0e7a2b9d01",
                    "shipping_method": "uk_next_day",
                    "gift_message": "For Grace, with love",
                }
            ]
        },
    )

    shipping_address_id: uuid.UUID
    billing_address_id: uuid.UUID
    shipping_method: ShippingMethod | None = None
    payment_method_id: uuid.UUID | None = Field(
        default=None,
        description="Pay with a saved card (`GET /api/user/payment-methods`), confirmed at once.",
    )
    gift_message: GiftMessage | None = Field(
        None, description="Printed on the packing slip, never on the invoice (300 at most)."
    )


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


class ReturnLineRequest(Strict):
    order_item_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=100)]


class ReturnCreate(Strict):
    lines: Annotated[list[ReturnLineRequest], Field(min_length=1, max_length=50)]
    reason: Note


class ReturnUpdate(Strict):
    """A staff decision: `authorised`, `received` (with `restock: false` to keep the pieces
    out of stock, say for inspection), `refunded`, or `rejected` with a `note` saying why."""

    status: ReturnStatus
    note: Note | None = None
    restock: bool = True


class InstalmentCreate(Strict):
    """A bank transfer received: the amount (the instalment due) and the bank's reference."""

    amount: Money
    reference: ShortText


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
