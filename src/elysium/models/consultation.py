"""Atelier consultation bookings: at most one active booking per slot."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey


class Consultation(UUIDPrimaryKey, Timestamps, Base):
    """A client's appointment in one slot; cancelling frees the slot for others."""

    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # the guarantee against double booking: one active booking per slot start
        Index(
            "uq_consultations_active_starts_at",
            "starts_at",
            unique=True,
            postgresql_where=text("cancelled_at IS NULL"),
        ),
        Index("ix_consultations_user_id_starts_at", "user_id", "starts_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    topic: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    # a care-plan service: booked without charge while this subscription is active
    care_plan_subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL")
    )

    @property
    def status(self) -> str:
        """`booked`, or `cancelled` once cancelled."""
        return "booked" if self.cancelled_at is None else "cancelled"
