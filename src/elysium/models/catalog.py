"""Collections and products: the Sanity document kept whole plus the columns queries need."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, SoftDelete, Timestamps, UUIDPrimaryKey


class Collection(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    """A Sanity `collection` document."""

    __tablename__ = "collections"

    sanity_id: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    rev: Mapped[str] = mapped_column(String(100))
    sanity_updated_at: Mapped[datetime]
    published: Mapped[bool] = mapped_column(default=True)


class Category(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    """A Sanity `category` document; `parent_sanity_id` makes the tree (None at the top)."""

    __tablename__ = "categories"

    sanity_id: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    parent_sanity_id: Mapped[str | None] = mapped_column(String(200), index=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    rev: Mapped[str] = mapped_column(String(100))
    sanity_updated_at: Mapped[datetime]
    published: Mapped[bool] = mapped_column(default=True)


class Product(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    """A Sanity `product` document; prices in pence, options as the price engine reads them."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("base_price_pence >= 0", name="base_price_not_negative"),
        CheckConstraint(
            "compare_at_price_pence IS NULL OR compare_at_price_pence > base_price_pence",
            name="compare_at_above_price",
        ),
        Index("ix_products_metals", "metals", postgresql_using="gin"),
        Index("ix_products_search", "search", postgresql_using="gin"),
        Index(
            "ix_products_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        Index("ix_products_collection_slug_title", "collection_slug", "title"),
    )

    sanity_id: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    collection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("collections.id", ondelete="SET NULL"), index=True
    )
    collection_slug: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    base_price_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    inventory_options: Mapped[list[str]] = mapped_column(JSONB, default=list)
    engraving: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    made_to_order: Mapped[bool] = mapped_column(default=False)
    lead_time_days: Mapped[int | None]
    image_url: Mapped[str | None] = mapped_column(String(1000))
    sku: Mapped[str | None] = mapped_column(String(64))
    compare_at_price_pence: Mapped[int | None]
    featured: Mapped[bool] = mapped_column(default=False, server_default="false")
    # the gallery: [{url, alt, width, height}], resolved from the image assets at import
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    # a diamond's grading certificate: {laboratory, number, carat, colour, clarity, cut}
    certificate: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    metals: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list, server_default="{}")
    sanity_created_at: Mapped[datetime | None]
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    rev: Mapped[str] = mapped_column(String(100))
    sanity_updated_at: Mapped[datetime]
    published: Mapped[bool] = mapped_column(default=True)
    search: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(description, '')), 'B')",
            persisted=True,
        ),
    )
