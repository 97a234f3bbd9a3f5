"""Emailed one-time links (password reset, email verification): issued, sent and redeemed.

A link's token is random (256 bits) and only its SHA-256 is stored; it works once, until it
expires, and issuing a newer link of the same purpose deletes the unused older ones. The
rendered link also sits in the sent-email log until delivered; the log drops it once sent
(`notifications.emails.ONE_TIME_LINK_TEMPLATES`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.errors import ValidationFailedError
from elysium.kit.clock import utcnow
from elysium.kit.ratelimit import RateLimiter, reserve_or_refuse
from elysium.kit.tokens import hash_token, new_token
from elysium.models import AccountToken, User
from elysium.models.user import AccountTokenPurpose
from elysium.notifications.emails import send_email


class InvalidLinkError(ValidationFailedError):
    """An unknown, used, superseded or expired link: one answer for all four."""

    def __init__(self) -> None:
        super().__init__(
            "This link is invalid or has expired; please ask for a new one.",
            errors=[{"field": "token", "message": "invalid or expired"}],
        )


@dataclass(frozen=True)
class Redeemed:
    user_id: uuid.UUID
    email: str


def public_url(settings: Settings, path: str, **query: str) -> str:
    """A storefront link under PUBLIC_BASE_URL."""
    base = settings.public_base_url.rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


async def forget_links(
    session: AsyncSession, user_id: uuid.UUID, purpose: AccountTokenPurpose
) -> None:
    """Delete the unused links of one purpose (a newer link, or the email changed)."""
    await session.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
    )


async def issue_link(
    session: AsyncSession, user: User, purpose: AccountTokenPurpose, ttl: timedelta
) -> str:
    """A new token for `user`'s current email; the older unused ones of `purpose` die."""
    await forget_links(session, user.id, purpose)
    token, now = new_token(), utcnow()
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            email=user.email,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return token


async def redeem_link(session: AsyncSession, purpose: AccountTokenPurpose, token: str) -> Redeemed:
    """Use a link once: a conditional UPDATE, so two concurrent uses cannot both pass."""
    now = utcnow()
    stmt = (
        update(AccountToken)
        .where(
            AccountToken.token_hash == hash_token(token),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(AccountToken.user_id, AccountToken.email)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise InvalidLinkError()
    return Redeemed(user_id=row.user_id, email=row.email)


async def spend(limiter: RateLimiter, key: str, limit: int, window: int, detail: str) -> None:
    """429 when `key` has used its `limit` in `window` seconds; otherwise count one more
    (checked and counted in one atomic step)."""
    await reserve_or_refuse(limiter, [(key, limit)], window, detail)


async def send_verification_link(
    session: AsyncSession, limiter: RateLimiter, settings: Settings, user: User
) -> None:
    """Email a link proving `user` receives mail at their current address (rate-limited)."""
    await spend(
        limiter,
        f"verify-email:account:{user.id}",
        settings.verification_emails_per_hour,
        3600,
        "Too many verification emails; try again later.",
    )
    hours = settings.email_verification_ttl_hours
    token = await issue_link(
        session, user, AccountTokenPurpose.EMAIL_VERIFICATION, timedelta(hours=hours)
    )
    await send_email(
        session,
        to=user.email,
        template="verify_email",
        context={
            "customer_name": user.name or "Client",
            "email": user.email,
            "verify_url": public_url(settings, "/verify-email", token=token),
            "expires_in_hours": hours,
        },
        idempotency_key=f"verify-email:{hash_token(token)}",
    )


async def send_password_reset_link(session: AsyncSession, settings: Settings, user: User) -> None:
    """Email a single-use password-reset link to `user`."""
    minutes = settings.password_reset_ttl_minutes
    token = await issue_link(
        session, user, AccountTokenPurpose.PASSWORD_RESET, timedelta(minutes=minutes)
    )
    await send_email(
        session,
        to=user.email,
        template="password_reset",
        context={
            "customer_name": user.name or "Client",
            "reset_url": public_url(settings, "/reset-password", token=token),
            "expires_in_minutes": minutes,
        },
        idempotency_key=f"password-reset:{hash_token(token)}",
    )
