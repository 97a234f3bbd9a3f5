"""Atelier consultation bookings (no two active ones overlap) and the days the atelier closes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey
from elysium.kit.vocab import StrEnumType, one_of


class ConsultationKind(StrEnum):
    """What an appointment is for; its duration, price and days live in consultations/kinds."""

    BRIDAL_DESIGN = "bridal_design"
    BESPOKE_COMMISSION = "bespoke_commission"
    RING_RESIZING = "ring_resizing"
    INSURANCE_VALUATION = "insurance_valuation"


class Consultation(UUIDPrimaryKey, Timestamps, Base):
    """A client's appointment; cancelling frees its time for others."""

    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(one_of("kind", ConsultationKind), name="kind_known"),
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        # the guarantee against double booking: one active booking per slot start ...
        Index(
            "uq_consultations_active_starts_at",
            "starts_at",
            unique=True,
            postgresql_where=text("cancelled_at IS NULL"),
        ),
        # ... and, since appointments differ in length, no two active ones overlap
        ExcludeConstraint(
            (text("tstzrange(starts_at, ends_at)"), "&&"),
            name="ex_consultations_active_overlap",
            using="gist",
            where=text("cancelled_at IS NULL"),
        ),
        Index("ix_consultations_user_id_starts_at", "user_id", "starts_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[ConsultationKind] = mapped_column(
        StrEnumType(ConsultationKind, 32),
        default=ConsultationKind.BRIDAL_DESIGN,
        server_default=ConsultationKind.BRIDAL_DESIGN.value,
    )
    price_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3), default="GBP", server_default="GBP")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    topic: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]
    rescheduled_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    # a care-plan service: booked without charge while this subscription is active
    care_plan_subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL")
    )

    @property
    def status(self) -> str:
        """`booked`, or `cancelled` once cancelled."""
        return "booked" if self.cancelled_at is None else "cancelled"


class AtelierClosure(UUIDPrimaryKey, Timestamps, Base):
    """A day the atelier is closed (set by staff): no consultation is offered on it."""

    __tablename__ = "atelier_closures"

    day: Mapped[date] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(String(200))
