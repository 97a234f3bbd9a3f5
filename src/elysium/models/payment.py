"""Payments, refunds and the provider events received (each recorded once).

No card data or client secrets are stored: the storefront receives a PaymentIntent's
`client_secret` straight from the gateway's answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey
from elysium.kit.vocab import StrEnumType, one_of


class PaymentState(StrEnum):
    """One payment attempt: open (pending, processing, failed may be retried), then settled."""

    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RefundState(StrEnum):
    """requested: amount set aside, provider not yet asked; pending: accepted, not yet settled
    (a bank transfer paid back by hand); succeeded; failed: the provider refused it."""

    REQUESTED = "requested"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Payment(UUIDPrimaryKey, Timestamps, Base):
    """One attempt to collect an order's total (a PaymentIntent, or a bank transfer)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(one_of("status", PaymentState), name="status_known"),
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_payment_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_pence: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    status: Mapped[PaymentState] = mapped_column(
        StrEnumType(PaymentState, 16), default=PaymentState.PENDING
    )
    failure_reason: Mapped[str | None] = mapped_column(String(500))


class Refund(UUIDPrimaryKey, Timestamps, Base):
    """Money given back; `pending` rows count against what is left to refund."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint(one_of("status", RefundState), name="status_known"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        Index("ix_refunds_order_id_status", "order_id", "status"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"))
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_pence: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[RefundState] = mapped_column(
        StrEnumType(RefundState, 16), default=RefundState.REQUESTED
    )
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class PaymentEvent(UUIDPrimaryKey, Base):
    """A webhook event as received; the unique (source, external_id) makes retries harmless."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]
