"""Product reviews: written by customers, shown once staff approve them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey

REVIEW_STATUSES = ("pending", "approved", "rejected")


class Review(UUIDPrimaryKey, Timestamps, Base):
    """One customer's review of one product; text is stored verbatim, never rendered here."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("product_id", "user_id", name="uq_reviews_product_id_user_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in REVIEW_STATUSES)})", name="status_known"
        ),
        Index("ix_reviews_product_id_status_created_at", "product_id", "status", "created_at"),
        Index("ix_reviews_status_created_at", "status", "created_at"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    verified_purchase: Mapped[bool] = mapped_column(default=False)
    moderated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    moderated_at: Mapped[datetime | None]
    moderation_note: Mapped[str | None] = mapped_column(Text)
