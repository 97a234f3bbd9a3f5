"""Care plans, their subscriptions, and the client's saved cards at the payment provider.

Only the provider's references are stored for cards (the PaymentMethod id) with what the
client needs to recognise one (brand, last four digits, expiry), never a card number.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey
from elysium.kit.vocab import StrEnumType, one_of


class PlanInterval(StrEnum):
    """How often a care plan renews."""

    MONTH = "month"
    YEAR = "year"


class SubscriptionStatus(StrEnum):
    """A care plan subscription; `incomplete` until the first payment (or trial) starts it."""

    INCOMPLETE = "incomplete"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    CANCELLED = "cancelled"


LIVE_SUBSCRIPTION_STATUSES = frozenset(
    {
        SubscriptionStatus.INCOMPLETE,
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.PAST_DUE,
        SubscriptionStatus.PAUSED,
    }
)
"""Statuses that hold the one-per-plan-per-piece place."""


class BillingCustomer(Base):
    """The client's customer record at the payment provider: created once, kept for the user."""

    __tablename__ = "billing_customers"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    provider_customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class SavedCard(UUIDPrimaryKey, Timestamps, Base):
    """A card saved at the provider (a PaymentMethod attached to the client's customer)."""

    __tablename__ = "saved_cards"
    __table_args__ = (
        Index(
            "uq_saved_cards_one_default",
            "user_id",
            unique=True,
            postgresql_where=text("is_default"),
        ),
        CheckConstraint("exp_month BETWEEN 1 AND 12", name="exp_month_valid"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    provider_payment_method_id: Mapped[str] = mapped_column(String(255), unique=True)
    brand: Mapped[str] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(SmallInteger)
    exp_year: Mapped[int] = mapped_column(SmallInteger)
    is_default: Mapped[bool] = mapped_column(default=False)


class CarePlan(UUIDPrimaryKey, Timestamps, Base):
    """A care plan on sale, mirrored at the provider as a Product and a Plan (price)."""

    __tablename__ = "care_plans"
    __table_args__ = (
        CheckConstraint(one_of("interval", PlanInterval), name="interval_known"),
        CheckConstraint("price_pence > 0", name="price_positive"),
        CheckConstraint("trial_days >= 0", name="trial_days_not_negative"),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_pence: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    interval: Mapped[PlanInterval] = mapped_column(StrEnumType(PlanInterval, 8))
    trial_days: Mapped[int] = mapped_column(SmallInteger, default=0)
    benefits: Mapped[list[str]] = mapped_column(JSONB, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    provider_product_id: Mapped[str | None] = mapped_column(String(255))
    provider_price_id: Mapped[str | None] = mapped_column(String(255))


class Subscription(UUIDPrimaryKey, Timestamps, Base):
    """A client's care plan, optionally for one piece they bought (an order line).

    Kept for accounting when the client is erased: it holds ids and dates, no personal data.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(one_of("status", SubscriptionStatus), name="status_known"),
        # one live subscription per plan per piece (or per plan, for none)
        Index(
            "uq_subscriptions_live_plan_piece",
            "user_id",
            "plan_id",
            "order_item_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_subscriptions_status_created_at", "status", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_plans.id"))
    order_item_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("order_items.id", ondelete="SET NULL")
    )
    provider_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        StrEnumType(SubscriptionStatus, 16), default=SubscriptionStatus.INCOMPLETE
    )
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    current_period_end: Mapped[datetime | None]
    trial_end: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    last_paid_invoice_id: Mapped[str | None] = mapped_column(String(255))
    last_failed_invoice_id: Mapped[str | None] = mapped_column(String(255))
    provider_synced_at: Mapped[int] = mapped_column(BigInteger, default=0)
