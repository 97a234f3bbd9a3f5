"""The sent-email log and in-app notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, UUIDPrimaryKey

EMAIL_STATUSES = ("queued", "sent", "failed")


class SentEmail(UUIDPrimaryKey, Base):
    """One transactional email: queued in the business transaction, then sent by a job."""

    __tablename__ = "sent_emails"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status_known"),
        Index("ix_sent_emails_status_created_at", "status", "created_at"),
    )

    to: Mapped[str] = mapped_column(String(320), index=True)
    template: Mapped[str] = mapped_column(String(64))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    """`[{kind, params}]`: what the sending job attaches (built then, e.g. an invoice PDF)."""
    status: Mapped[str] = mapped_column(String(16), default="queued")
    idempotency_key: Mapped[str] = mapped_column(String(256), unique=True)
    provider_id: Mapped[str | None] = mapped_column(String(256))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]


class Notification(UUIDPrimaryKey, Base):
    """An in-app notice for one user, newest first, read or unread."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_created_at", "user_id", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    read_at: Mapped[datetime | None]
    # clock_timestamp: several notices made in one transaction still sort in creation order.
    created_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp(), index=True)
