"""Product views: one row per view, read back as recently viewed and trending lists."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base


class ProductView(Base):
    """A product page seen by a signed-in user (`user_id`) or a guest (`session_id`).

    Partitioned by month of `viewed_at` (`product_views_yYYYYmMM`, made ahead by
    `analytics.partitions`), so retention drops whole partitions instead of deleting rows.
    """

    __tablename__ = "product_views"
    __table_args__ = (
        # trending: an index-only scan over the last week's (viewed_at, product_id) pairs
        Index("ix_product_views_viewed_at_product_id", "viewed_at", "product_id"),
        Index(
            "ix_product_views_user_id_viewed_at",
            "user_id",
            "viewed_at",
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "ix_product_views_session_id_viewed_at",
            "session_id",
            "viewed_at",
            postgresql_where=text("session_id IS NOT NULL"),
        ),
        Index("ix_product_views_product_id", "product_id"),
        {"postgresql_partition_by": "RANGE (viewed_at)"},
    )

    # the primary key of a partitioned table must include the partition key
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(128))
    viewed_at: Mapped[datetime] = mapped_column(server_default=func.now(), primary_key=True)


class RecentView(Base):
    """When a viewer last saw a product: one row per (viewer, product).

    Kept by the statement trigger `product_views_keep_recent` on every insert into
    `product_views` (one upsert per batch of views), so "recently viewed" reads at most `limit`
    rows through an index instead of scanning the viewer's views. Deleted with the views past
    retention, with the user, and by erasure.
    """

    __tablename__ = "recent_views"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (session_id IS NULL)", name="one_viewer"),
        Index(
            "uq_recent_views_user_id_product_id",
            "user_id",
            "product_id",
            unique=True,
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_recent_views_session_id_product_id",
            "session_id",
            "product_id",
            unique=True,
            postgresql_where=text("session_id IS NOT NULL"),
        ),
        Index(
            "ix_recent_views_user_id_viewed_at",
            "user_id",
            "viewed_at",
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "ix_recent_views_session_id_viewed_at",
            "session_id",
            "viewed_at",
            postgresql_where=text("session_id IS NOT NULL"),
        ),
        Index("ix_recent_views_viewed_at", "viewed_at"),
        Index("ix_recent_views_product_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(128))
    viewed_at: Mapped[datetime]
