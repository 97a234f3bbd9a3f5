"""Two-factor set-up and recovery: enrol, confirm, regenerate codes, disable, staff reset.

Every change to a user's own two-factor needs their password (a stolen session cannot lock the
owner out) and ends their other sessions. Recovery codes are shown once and stored hashed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.accounts import security
from elysium.accounts.second_factor import (
    accept_second_factor,
    accept_totp,
    new_recovery_codes,
    recovery_code_hash,
)
from elysium.accounts.service import revoke_all_sessions, verify_password
from elysium.audit.service import record_event
from elysium.errors import ConflictError, NotFoundError, ValidationFailedError
from elysium.kit.clock import utcnow
from elysium.models import AuthSession, RecoveryCode, User


async def _check_password(user: User, password: str) -> None:
    if not await verify_password(user.password_hash, password):
        raise ValidationFailedError(
            "The password is incorrect.", errors=[{"field": "password", "message": "incorrect"}]
        )


def _bad_code() -> ValidationFailedError:
    return ValidationFailedError(
        "The code is not valid.", errors=[{"field": "code", "message": "invalid code"}]
    )


async def _replace_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = new_recovery_codes()
    now = utcnow()
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=recovery_code_hash(c), created_at=now)
        for c in codes
    )
    await session.flush()
    return codes


async def start_enrolment(session: AsyncSession, user: User, password: str) -> tuple[str, str]:
    """A new secret to scan (and its otpauth:// URI); enabled once a code from it is confirmed."""
    await _check_password(user, password)
    if user.totp_enabled_at is not None:
        raise ConflictError("Two-factor authentication is already enabled.")
    user.totp_secret = security.new_totp_secret()
    user.totp_last_step = None
    await session.flush()
    return user.totp_secret, security.totp_uri(user.totp_secret, user.email)


async def confirm_enrolment(
    session: AsyncSession, user: User, auth: AuthSession, code: str
) -> list[str]:
    """Enable two-factor once a code is proven; returns the ten recovery codes (shown once)."""
    if user.totp_secret is None or user.totp_enabled_at is not None:
        raise ConflictError("Start two-factor set-up first.")
    if not await accept_totp(session, user, code):
        raise _bad_code()
    user.totp_enabled_at = utcnow()
    codes = await _replace_recovery_codes(session, user)
    await revoke_all_sessions(session, user.id, keep=auth.id)
    await record_event(
        session, "user.totp_enabled", actor_id=user.id, target_type="user", target_id=user.id
    )
    return codes


def _require_enabled(user: User) -> None:
    if user.totp_enabled_at is None:
        raise ConflictError("Two-factor authentication is not enabled.")


async def regenerate_recovery_codes(
    session: AsyncSession, user: User, auth: AuthSession, password: str, code: str
) -> list[str]:
    """Ten new recovery codes (the old ones stop working), with the password and a code."""
    _require_enabled(user)
    await _check_password(user, password)
    if not await accept_second_factor(session, user, code):
        raise _bad_code()
    codes = await _replace_recovery_codes(session, user)
    await revoke_all_sessions(session, user.id, keep=auth.id)
    await record_event(
        session,
        "user.recovery_codes_regenerated",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    return codes


async def _clear(session: AsyncSession, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


async def disable(
    session: AsyncSession, user: User, auth: AuthSession, password: str, code: str
) -> None:
    """Turn two-factor off with the password and a current code (or a recovery code)."""
    _require_enabled(user)
    await _check_password(user, password)
    if not await accept_second_factor(session, user, code):
        raise _bad_code()
    await _clear(session, user)
    await revoke_all_sessions(session, user.id, keep=auth.id)
    await record_event(
        session, "user.totp_disabled", actor_id=user.id, target_type="user", target_id=user.id
    )


async def reset(session: AsyncSession, user: User, actor_id: uuid.UUID | None, via: str) -> None:
    """Staff reset for a lost device: two-factor off, every session ended; audited."""
    await _clear(session, user)
    await revoke_all_sessions(session, user.id)
    await record_event(
        session,
        "user.totp_reset",
        actor_id=actor_id,
        target_type="user",
        target_id=user.id,
        details={"via": via},
    )


async def reset_for(session: AsyncSession, admin: User, user_id: uuid.UUID) -> None:
    """An admin resets another account's two-factor from the API or the back office."""
    user = await session.get(User, user_id, with_for_update=True)
    if user is None or user.deleted_at is not None:
        raise NotFoundError("No such user.")
    await reset(session, user, admin.id, via="admin")
