"""The sent-email log and in-app notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, UUIDPrimaryKey
from elysium.kit.vocab import StrEnumType, one_of


class Priority(StrEnum):
    """How prominently an in-app notice is shown."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class ContactTopic(StrEnum):
    """What the house writes about; order updates (and legal notices) always go out."""

    ORDER_UPDATES = "order_updates"
    APPOINTMENTS = "appointments"
    WISHLIST = "wishlist"
    MARKETING = "marketing"


class ContactChannel(StrEnum):
    """How the house writes: by email or in the client's account."""

    EMAIL = "email"
    IN_APP = "in_app"


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
    __table_args__ = (
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        CheckConstraint(one_of("priority", Priority), name="priority_known"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    read_at: Mapped[datetime | None]
    priority: Mapped[Priority] = mapped_column(
        StrEnumType(Priority, 8), default=Priority.NORMAL, server_default=Priority.NORMAL.value
    )
    expires_at: Mapped[datetime | None]
    # clock_timestamp: several notices made in one transaction still sort in creation order.
    created_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp(), index=True)


class ContactPreference(Base):
    """A client's choice for one topic on one channel; no row means the topic's default."""

    __tablename__ = "contact_preferences"
    __table_args__ = (
        CheckConstraint(one_of("topic", ContactTopic), name="topic_known"),
        CheckConstraint(one_of("channel", ContactChannel), name="channel_known"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[ContactTopic] = mapped_column(StrEnumType(ContactTopic, 32), primary_key=True)
    channel: Mapped[ContactChannel] = mapped_column(
        StrEnumType(ContactChannel, 16), primary_key=True
    )
    enabled: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ConsentRecord(UUIDPrimaryKey, Base):
    """One change of a contact preference: what, when, from where, under which wording."""

    __tablename__ = "consent_records"
    __table_args__ = (
        CheckConstraint(one_of("topic", ContactTopic), name="topic_known"),
        CheckConstraint(one_of("channel", ContactChannel), name="channel_known"),
        Index("ix_consent_records_user_id_recorded_at", "user_id", "recorded_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    topic: Mapped[ContactTopic] = mapped_column(StrEnumType(ContactTopic, 32))
    channel: Mapped[ContactChannel] = mapped_column(StrEnumType(ContactChannel, 16))
    granted: Mapped[bool]
    source: Mapped[str] = mapped_column(String(64))
    text_version: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
