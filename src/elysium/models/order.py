"""Orders: the priced snapshot of a cart, its lines, its status history and idempotency keys.

An order copies everything it was sold with (titles, configurations, unit prices, addresses),
so later catalogue or address-book edits never change what the customer bought.
Amounts are integer pence; `total = subtotal - discount + shipping` is enforced by a CHECK.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey
from elysium.kit.vat import VatTreatment
from elysium.kit.vocab import StrEnumType, one_of


class OrderStatus(StrEnum):
    """Where an order is in its life; the allowed moves are in `orders/state.py`."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PAID = "PAID"
    FULFILLED = "FULFILLED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


class OrderPaymentStatus(StrEnum):
    """What the order's money is doing, derived from its payments and refunds."""

    UNPAID = "unpaid"
    DEPOSIT_PAID = "deposit_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"


class ShippingMethod(StrEnum):
    UK_NEXT_DAY = "uk_next_day"
    INTERNATIONAL_COURIER = "international_courier"
    ATELIER_COLLECTION = "atelier_collection"


order_number_seq = Sequence("order_number_seq", metadata=Base.metadata)


class Order(UUIDPrimaryKey, Timestamps, Base):
    """A customer's order; `status` follows orders/state.py, `payment_status` the money."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(one_of("status", OrderStatus), name="status_known"),
        CheckConstraint(one_of("payment_status", OrderPaymentStatus), name="payment_status_known"),
        CheckConstraint(one_of("shipping_method", ShippingMethod), name="shipping_method_known"),
        CheckConstraint(one_of("vat_treatment", VatTreatment), name="vat_treatment_known"),
        CheckConstraint(
            "deposit_pence IS NULL OR (deposit_pence > 0 AND deposit_pence <= total_pence)",
            name="deposit_within_total",
        ),
        CheckConstraint(
            "subtotal_pence >= 0 AND discount_pence >= 0 AND shipping_pence >= 0 "
            "AND vat_pence >= 0 AND total_pence >= 0",
            name="amounts_not_negative",
        ),
        CheckConstraint("discount_pence <= subtotal_pence", name="discount_within_subtotal"),
        CheckConstraint(
            "total_pence = subtotal_pence - discount_pence + shipping_pence", name="total_adds_up"
        ),
        Index("ix_orders_user_id_created_at", "user_id", "created_at"),
        Index("ix_orders_status_reservation_expires_at", "status", "reservation_expires_at"),
    )

    order_number: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[OrderStatus] = mapped_column(
        StrEnumType(OrderStatus, 16), default=OrderStatus.PENDING
    )
    payment_status: Mapped[OrderPaymentStatus] = mapped_column(
        StrEnumType(OrderPaymentStatus, 24), default=OrderPaymentStatus.UNPAID
    )
    payment_provider: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    subtotal_pence: Mapped[int] = mapped_column(Integer)
    discount_pence: Mapped[int] = mapped_column(Integer, default=0)
    shipping_pence: Mapped[int] = mapped_column(Integer, default=0)
    vat_pence: Mapped[int] = mapped_column(Integer)
    total_pence: Mapped[int] = mapped_column(Integer)
    coupon_id: Mapped[uuid.UUID | None]
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    shipping_method: Mapped[ShippingMethod] = mapped_column(StrEnumType(ShippingMethod, 32))
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSONB)
    billing_address: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reservation_expires_at: Mapped[datetime]
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    vat_treatment: Mapped[VatTreatment] = mapped_column(
        StrEnumType(VatTreatment, 24), default=VatTreatment.STANDARD
    )
    vat_rate_percent: Mapped[int] = mapped_column(SmallInteger, default=20)
    gift_message: Mapped[str | None] = mapped_column(String(300))
    invoice_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    invoiced_at: Mapped[datetime | None]
    deposit_pence: Mapped[int | None] = mapped_column(Integer)
    """Set for an order paid in two instalments (a bespoke commission): the deposit due now,
    the balance (`total - deposit`) before shipping."""


class OrderItem(UUIDPrimaryKey, Base):
    """One line as it was sold."""

    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_pence >= 0", name="unit_price_not_negative"),
        CheckConstraint("line_total_pence = unit_price_pence * quantity", name="line_adds_up"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL")
    )
    product_slug: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    collection_slug: Mapped[str | None] = mapped_column(String(200))
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONB)
    variant_key: Mapped[str] = mapped_column(String(2000))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_pence: Mapped[int] = mapped_column(Integer)
    line_total_pence: Mapped[int] = mapped_column(Integer)
    made_to_order: Mapped[bool] = mapped_column(default=False)


class OrderStatusChange(UUIDPrimaryKey, Base):
    """One entry of an order's status history: who moved it where, when and why."""

    __tablename__ = "order_status_changes"
    __table_args__ = (
        CheckConstraint(one_of("status", OrderStatus), name="status_known"),
        Index("ix_order_status_changes_order_id_at", "order_id", "at"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    status: Mapped[OrderStatus] = mapped_column(StrEnumType(OrderStatus, 16))
    at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))


class OrderNote(UUIDPrimaryKey, Base):
    """An internal note staff keep on an order (never shown to the customer); newest first."""

    __tablename__ = "order_notes"
    __table_args__ = (
        CheckConstraint("length(body) BETWEEN 1 AND 2000", name="body_length"),
        Index("ix_order_notes_order_id_created_at", "order_id", "created_at"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())


class IdempotencyKey(UUIDPrimaryKey, Base):
    """The first answer to a money-moving request, replayed for the same key and body."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
