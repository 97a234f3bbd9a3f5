"""A client who forgot a password resets it by email; emails are verified, and changed with the
password (the new address verified, the old one told)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.accounts.links import (
    InvalidLinkError,
    forget_links,
    public_url,
    redeem_link,
    send_password_reset_link,
    send_verification_link,
    spend,
)
from elysium.accounts.service import (
    ensure_password_acceptable,
    find_user_by_email,
    hash_password,
    normalize_email,
    revoke_all_sessions,
    verify_password,
)
from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.errors import ConflictError, ValidationFailedError
from elysium.jobs import enqueue
from elysium.kit.clock import utcnow
from elysium.kit.context import current_client_ip
from elysium.kit.ratelimit import RateLimiter
from elysium.models import User
from elysium.models.user import AccountTokenPurpose
from elysium.notifications.emails import send_email

SEND_PASSWORD_RESET = "send_password_reset"
RESET_ACCEPTED = (
    "If an account uses this address, we have emailed it a link to choose a new password."
)


async def request_password_reset(
    session: AsyncSession, limiter: RateLimiter, settings: Settings, email: str
) -> None:
    """Queue the reset email; the same work and answer whether or not the account exists.

    The job looks the account up and sends the link only when it exists, so neither the
    answer nor its timing tells a registered address from another.
    """
    email = normalize_email(email)
    detail = "Too many password reset requests; try again later."
    ip = current_client_ip() or "unknown"
    per_email, per_ip = (
        settings.password_resets_per_email_per_hour,
        settings.password_resets_per_ip_per_hour,
    )
    await spend(limiter, f"password-reset:ip:{ip}", per_ip, 3600, detail)
    await spend(limiter, f"password-reset:email:{email}", per_email, 3600, detail)
    await enqueue(session, SEND_PASSWORD_RESET, queue="email", email=email)


async def send_password_reset(session: AsyncSession, settings: Settings, email: str) -> bool:
    """The job's body: email a reset link when a live, active account has `email`."""
    user = await find_user_by_email(session, email)
    if user is None or not user.is_active:
        return False
    await send_password_reset_link(session, settings, user)
    return True


async def reset_password(
    session: AsyncSession, settings: Settings, token: str, password: str
) -> None:
    """Set a new password from a reset link; every session ends; audited and the client told.

    The link also proves the address, so the email counts as verified.
    """
    link = await redeem_link(session, AccountTokenPurpose.PASSWORD_RESET, token)
    user = await session.get(User, link.user_id, with_for_update=True)
    if user is None or user.deleted_at is not None or user.email != link.email:
        raise InvalidLinkError()
    ensure_password_acceptable(password, user.email)
    now = utcnow()
    user.password_hash = await hash_password(password)
    user.password_changed_at = now
    user.email_verified_at = user.email_verified_at or now
    await revoke_all_sessions(session, user.id)
    await record_event(
        session, "user.password_reset", actor_id=user.id, target_type="user", target_id=user.id
    )
    await send_email(
        session,
        to=user.email,
        template="password_changed",
        context={
            "customer_name": user.name or "Client",
            "changed_at": now,
            "reset_url": public_url(settings, "/reset-password"),
        },
        idempotency_key=f"password-changed:{user.id}:{now.isoformat()}",
    )


async def resend_verification(
    session: AsyncSession, limiter: RateLimiter, settings: Settings, user: User
) -> None:
    """Email a new verification link (the older ones stop working); 409 when already verified."""
    if user.email_verified:
        raise ConflictError("This email address is already verified.")
    await send_verification_link(session, limiter, settings, user)


async def verify_email(session: AsyncSession, token: str) -> None:
    """Mark the address the link was sent to as verified, if it is still the account's."""
    link = await redeem_link(session, AccountTokenPurpose.EMAIL_VERIFICATION, token)
    user = await session.get(User, link.user_id, with_for_update=True)
    if user is None or user.deleted_at is not None or user.email != link.email:
        raise InvalidLinkError()
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    await record_event(
        session, "user.email_verified", actor_id=user.id, target_type="user", target_id=user.id
    )


async def change_email(
    session: AsyncSession,
    limiter: RateLimiter,
    settings: Settings,
    user: User,
    new_email: str,
    password: str,
) -> User:
    """Change the sign-in address after checking the password: the new one must be verified
    (a link is sent to it) and the old one is told. Reset links sent to the old one die."""
    if not await verify_password(user.password_hash, password):
        raise ValidationFailedError(
            "The password is incorrect.", errors=[{"field": "password", "message": "incorrect"}]
        )
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise ConflictError("This is already the account's email address.")
    if await find_user_by_email(session, new_email) is not None:
        raise ConflictError("An account with this email already exists.")
    old_email, now = user.email, utcnow()
    user.email, user.email_verified_at = new_email, None
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConflictError("An account with this email already exists.") from exc
    await forget_links(session, user.id, AccountTokenPurpose.PASSWORD_RESET)
    await send_verification_link(session, limiter, settings, user)
    await send_email(
        session,
        to=old_email,
        template="email_changed",
        context={
            "customer_name": user.name or "Client",
            "new_email": new_email,
            "changed_at": now,
            "reset_url": public_url(settings, "/reset-password"),
        },
        idempotency_key=f"email-changed:{user.id}:{now.isoformat()}",
    )
    await record_event(
        session, "user.email_changed", actor_id=user.id, target_type="user", target_id=user.id
    )
    return user
