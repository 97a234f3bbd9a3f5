"""Carts and their lines, saved shareable configurations and wishlists."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, Timestamps, UUIDPrimaryKey

MAX_LINE_QUANTITY = 10


class Cart(UUIDPrimaryKey, Timestamps, Base):
    """A signed-in user's cart, or a guest's reached through the hash of its `cart_token`."""

    __tablename__ = "carts"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (token_hash IS NULL)", name="owned_by_user_or_token"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(index=True)


class CartItem(UUIDPrimaryKey, Base):
    """One line: a product in one normalised configuration (part of the line's identity)."""

    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "product_id", "configuration", name="uq_cart_items_line"),
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_LINE_QUANTITY}", name="quantity_in_range"),
    )

    cart_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONB)
    variant_key: Mapped[str] = mapped_column(String(2000))
    quantity: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SavedConfiguration(UUIDPrimaryKey, Base):
    """A configuration shared by a short unguessable code; priced afresh whenever it is read."""

    __tablename__ = "saved_configurations"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WishlistItem(UUIDPrimaryKey, Base):
    """One wished-for product per user, optionally with a preferred configuration."""

    __tablename__ = "wishlist_items"
    __table_args__ = (UniqueConstraint("user_id", "product_id", name="uq_wishlist_items_entry"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    configuration: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # what the client was last told about (or saw when wishing): alerts go out on a change
    seen_available: Mapped[bool | None]
    seen_price_pence: Mapped[int | None]


class CartReminder(UUIDPrimaryKey, Base):
    """A forgotten-cart reminder sent for one state of a cart (never twice for the same)."""

    __tablename__ = "cart_reminders"
    __table_args__ = (UniqueConstraint("cart_id", "state_hash", name="uq_cart_reminders_state"),)

    cart_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    state_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(server_default=func.now())
