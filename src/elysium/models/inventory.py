"""Stock: one row per product variant, the reservations held against it and the movement ledger.

How availability is decided (the rule that keeps us from overselling):
- `stock_items.reserved` is the sum of the variant's reservations that have not *lapsed*; it is
  kept in the same transaction as every reservation change, under the stock row's lock, and the
  CHECK constraints (`reserved <= stock_level`, both >= 0) are the last line of defence.
- A reservation stops counting the moment its `expires_at` passes: every read computes
  `available = stock_level - SUM(quantity) of reservations WHERE expires_at > now`, a query
  filter. `reserved` may therefore still include expired rows; writers that lock a stock row
  and find it short *lapse* the expired rows first (subtract them from `reserved`, set
  `lapsed_at`, ledger `expire`). The periodic job deletes expired rows and reports their owners.
- Made-to-order pieces are never stock-limited and get no reservation rows at all.
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
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, UUIDPrimaryKey
from elysium.kit.vocab import StrEnumType, one_of


class ReservationOwner(StrEnum):
    """Who holds reserved units: an unpaid order, or staff (a piece set aside in the atelier)."""

    ORDER = "order"
    STAFF = "staff"


MOVEMENT_REASONS = ("import", "adjust", "set", "reserve", "release", "expire", "sale", "return")


class StockItem(UUIDPrimaryKey, Base):
    """The stock of one variant (`variant_key` as the price engine names it) of one product."""

    __tablename__ = "stock_items"
    __table_args__ = (
        UniqueConstraint("product_id", "variant_key"),
        CheckConstraint("stock_level >= 0", name="stock_level_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= stock_level", name="reserved_within_stock"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))
    variant_key: Mapped[str] = mapped_column(String(2000))
    stock_level: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class StockReservation(UUIDPrimaryKey, Base):
    """Units held for an order or by staff until `expires_at`."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(one_of("owner_type", ReservationOwner), name="owner_type_known"),
        Index("ix_stock_reservations_owner", "owner_type", "owner_id"),
    )

    stock_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    owner_type: Mapped[ReservationOwner] = mapped_column(StrEnumType(ReservationOwner, 16))
    owner_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    lapsed_at: Mapped[datetime | None]  # set once no longer counted in `stock_items.reserved`
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class StockMovement(Base):
    """One append-only ledger entry; a trigger refuses UPDATE and DELETE.

    Summed per stock item, `delta` gives the stock level and `reserved_delta` the reserved count.
    """

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(one_of("reason", MOVEMENT_REASONS), name="reason_known"),
        Index("ix_stock_movements_stock_item_id_id", "stock_item_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    stock_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_items.id"))
    delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None]
    order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    reservation_id: Mapped[uuid.UUID | None]
    resulting_stock_level: Mapped[int] = mapped_column(Integer)
    resulting_reserved: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
