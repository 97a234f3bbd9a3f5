"""Returns of delivered lines (UK Consumer Contracts Regulations: 14 days from delivery)."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey
from elysium.kit.vocab import StrEnumType, one_of


class ReturnStatus(StrEnum):
    """requested -> authorised -> received -> refunded, or rejected (see orders/returns.py)."""

    REQUESTED = "requested"
    AUTHORISED = "authorised"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REJECTED = "rejected"


class OrderReturn(UUIDPrimaryKey, Timestamps, Base):
    """A customer's request to send delivered lines back."""

    __tablename__ = "order_returns"
    __table_args__ = (
        CheckConstraint(one_of("status", ReturnStatus), name="status_known"),
        Index("ix_order_returns_order_id_created_at", "order_id", "created_at"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    status: Mapped[ReturnStatus] = mapped_column(
        StrEnumType(ReturnStatus, 16), default=ReturnStatus.REQUESTED
    )
    reason: Mapped[str] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(500))
    restocked: Mapped[bool | None]
    refund_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("refunds.id"))


class OrderReturnLine(UUIDPrimaryKey, Base):
    """How many units of one order line a return sends back."""

    __tablename__ = "order_return_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        UniqueConstraint("return_id", "order_item_id"),
    )

    return_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("order_returns.id", ondelete="CASCADE"), index=True
    )
    order_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_items.id"))
    quantity: Mapped[int] = mapped_column(Integer)
