"""Bespoke commission enquiries, followed up by the atelier's staff."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey
from elysium.kit.vocab import StrEnumType, one_of


class BespokeStatus(StrEnum):
    """The sales pipeline of a commission; the allowed moves are in `bespoke/service.py`."""

    NEW = "new"
    CONTACTED = "contacted"
    CONSULTATION_BOOKED = "consultation_booked"
    IN_DESIGN = "in_design"
    QUOTED = "quoted"
    WON = "won"
    LOST = "lost"


class BespokeEnquiry(UUIDPrimaryKey, Timestamps, Base):
    """A client's idea for a commissioned piece; `status` follows the sales pipeline."""

    __tablename__ = "bespoke_enquiries"
    __table_args__ = (
        CheckConstraint(one_of("status", BespokeStatus), name="status_known"),
        CheckConstraint("budget_pence IS NULL OR budget_pence > 0", name="budget_positive"),
        Index("ix_bespoke_enquiries_created_at", "created_at"),
        Index("ix_bespoke_enquiries_status_created_at", "status", "created_at"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    piece_type: Mapped[str] = mapped_column(String(100))
    budget_pence: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    notes: Mapped[str] = mapped_column(Text)
    status: Mapped[BespokeStatus] = mapped_column(
        StrEnumType(BespokeStatus, 24), default=BespokeStatus.NEW
    )
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    staff_notes: Mapped[str | None] = mapped_column(Text)

    @property
    def reference(self) -> str:
        """The short reference quoted to the client and in staff emails."""
        return f"BSP-{self.id.hex[:8].upper()}"


class QuoteStatus(StrEnum):
    """sent -> accepted, or superseded by a newer quote; past `valid_until` it has expired."""

    SENT = "sent"
    ACCEPTED = "accepted"
    SUPERSEDED = "superseded"


class BespokeQuote(UUIDPrimaryKey, Timestamps, Base):
    """A price the atelier offers for an enquiry; accepted, it becomes a made-to-order order."""

    __tablename__ = "bespoke_quotes"
    __table_args__ = (
        CheckConstraint(one_of("status", QuoteStatus), name="status_known"),
        CheckConstraint("price_pence > 0", name="price_positive"),
        CheckConstraint("deposit_percent BETWEEN 1 AND 100", name="deposit_percent_range"),
    )

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bespoke_enquiries.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    price_pence: Mapped[int] = mapped_column(Integer)
    deposit_percent: Mapped[int] = mapped_column(SmallInteger)
    valid_until: Mapped[datetime]
    status: Mapped[QuoteStatus] = mapped_column(
        StrEnumType(QuoteStatus, 16), default=QuoteStatus.SENT
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
