"""Coupons and their redemptions (one per order; released when the order is cancelled)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey


class Coupon(UUIDPrimaryKey, Timestamps, Base):
    """A fixed or percentage discount; codes are stored upper-cased, so unique ignoring case."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("code = upper(code)", name="code_uppercase"),
        CheckConstraint(
            "(kind = 'fixed' AND amount_pence > 0 AND percent IS NULL)"
            " OR (kind = 'percentage' AND percent BETWEEN 1 AND 100 AND amount_pence IS NULL)",
            name="kind_amount",
        ),
        CheckConstraint("min_subtotal_pence >= 0", name="min_subtotal_not_negative"),
        CheckConstraint("max_redemptions IS NULL OR max_redemptions > 0", name="max_positive"),
        CheckConstraint(
            "max_per_customer IS NULL OR max_per_customer > 0", name="per_customer_positive"
        ),
        CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="window"
        ),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    amount_pence: Mapped[int | None]
    percent: Mapped[int | None]
    min_subtotal_pence: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    max_redemptions: Mapped[int | None]
    max_per_customer: Mapped[int | None]
    collection_slugs: Mapped[list[str] | None] = mapped_column(JSONB)
    active: Mapped[bool] = mapped_column(default=True)


class CouponRedemption(UUIDPrimaryKey, Base):
    """One use of a coupon by one order; `released_at` gives the use back."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (Index("ix_coupon_redemptions_coupon_user", "coupon_id", "user_id"),)

    coupon_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("coupons.id", ondelete="RESTRICT"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    order_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    released_at: Mapped[datetime | None]
