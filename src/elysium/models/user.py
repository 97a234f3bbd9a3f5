"""Users, their sessions, addresses and failed sign-ins."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, SoftDelete, Timestamps, UUIDPrimaryKey
from elysium.kit.vocab import StrEnumType, one_of


class Role(StrEnum):
    """What a user may do: customers shop; staff and admins also use the staff tools."""

    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.STAFF, Role.ADMIN})


class User(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    """A customer or member of staff; emails are stored lower-cased, so unique ignoring case."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", Role), name="role_known"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 16), default=Role.CUSTOMER)
    phone: Mapped[str | None] = mapped_column(String(40))
    date_of_birth: Mapped[date | None]
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    # The last TOTP time step accepted: a code of that step or an earlier one is refused
    # (RFC 6238 section 5.2: a one-time password is accepted once).
    totp_last_step: Mapped[int | None]
    password_changed_at: Mapped[datetime | None]
    # When the account proved it receives mail at `email` (cleared when the email changes).
    email_verified_at: Mapped[datetime | None]
    # Staff suspend an account by clearing this; it then cannot sign in and its sessions stop.
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    suspended_at: Mapped[datetime | None]

    @property
    def is_staff(self) -> bool:
        """Staff or admin: may use the staff tools."""
        return self.role in STAFF_ROLES

    @property
    def email_verified(self) -> bool:
        """The account has proved it receives mail at its current `email`."""
        return self.email_verified_at is not None


class RecoveryCode(UUIDPrimaryKey, Base):
    """A one-time two-factor recovery code, stored only as its SHA-256 hash."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(TIMESTAMP(timezone=True))


class AccountTokenPurpose(StrEnum):
    """What a emailed one-time link does."""

    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"


class AccountToken(UUIDPrimaryKey, Base):
    """A one-time emailed link (password reset, email verification), stored only as its hash.

    `email` is the address the link was sent to: a verification proves that address only.
    """

    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint(one_of("purpose", AccountTokenPurpose), name="purpose_known"),
        Index("ix_account_tokens_user_id_purpose", "user_id", "purpose"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[AccountTokenPurpose] = mapped_column(StrEnumType(AccountTokenPurpose, 32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(TIMESTAMP(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(TIMESTAMP(timezone=True))


class IdentityProvider(StrEnum):
    """Outside sign-in providers."""

    GOOGLE = "google"


class UserIdentity(UUIDPrimaryKey, Base):
    """A provider's subject (its stable user id) linked to one account."""

    __tablename__ = "user_identities"
    __table_args__ = (
        CheckConstraint(one_of("provider", IdentityProvider), name="provider_known"),
        UniqueConstraint("provider", "subject"),
        Index("ix_user_identities_user_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[IdentityProvider] = mapped_column(StrEnumType(IdentityProvider, 32))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP(timezone=True))


class AuthSession(UUIDPrimaryKey, Base):
    """An opaque bearer token, stored only as its SHA-256 hash."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id_active", "user_id", "revoked_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(TIMESTAMP(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(TIMESTAMP(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))


class Address(UUIDPrimaryKey, Timestamps, Base):
    """A billing or shipping address of one user."""

    __tablename__ = "addresses"
    __table_args__ = (
        CheckConstraint("type IN ('billing', 'shipping')", name="type_known"),
        Index("ix_addresses_user_id_type", "user_id", "type"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    is_default: Mapped[bool] = mapped_column(default=False)


class RateEvent(Base):
    """One counted event (a failed sign-in, an anonymous write) for sliding-window limits."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_key_at", "key", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400))
    occurred_at: Mapped[datetime] = mapped_column(TIMESTAMP(timezone=True))
