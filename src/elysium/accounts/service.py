"""Accounts: registration, sign-in with throttling, sessions, passwords, two-factor, roles."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import timedelta

from anyio import CapacityLimiter, to_thread
from sqlalchemy import Text, any_, bindparam, cast, delete, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from elysium.accounts import security
from elysium.accounts.links import send_verification_link
from elysium.accounts.schemas import RegisterRequest
from elysium.accounts.second_factor import accept_second_factor
from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.db import rows_affected
from elysium.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationFailedError,
)
from elysium.kit.batching import Batcher
from elysium.kit.clock import utcnow
from elysium.kit.context import current_client_ip
from elysium.kit.ratelimit import RateLimiter, Reservation, reserve_or_refuse
from elysium.kit.tokens import hash_token, new_token
from elysium.models import AuthSession, User
from elysium.models.user import STAFF_ROLES, Role
from elysium.notifications.emails import notify_welcome


class InvalidCredentialsError(UnauthorizedError):
    """The same answer for an unknown email and a wrong password; the failure is kept."""

    keep_changes = True

    def __init__(
        self, detail: str = "The email or password is incorrect.", **kwargs: object
    ) -> None:
        super().__init__(detail, **kwargs)


class AccountSuspendedError(ForbiddenError):
    """A suspended account cannot sign in (told only after the right password)."""

    def __init__(self) -> None:
        super().__init__("This account is suspended. Please contact the house.")


@dataclass(frozen=True)
class SignIn:
    token: str
    session: AuthSession
    user: User


def normalize_email(email: str) -> str:
    """Emails are compared and stored lower-cased, without surrounding spaces."""
    return email.strip().lower()


def ensure_password_acceptable(password: str, email: str | None, field: str = "password") -> None:
    """422 naming the field when the password policy refuses `password`."""
    problems = security.password_problems(password, email)
    if problems:
        errors = [{"field": field, "message": f"Password {p}."} for p in problems]
        raise ValidationFailedError("The password is too weak.", errors=errors)


# At most one argon2 computation per core at a time: a burst of sign-ins queues here instead of
# thrashing threads, and each waits without holding a database connection (see sign_in).
_HASHING = CapacityLimiter(os.cpu_count() or 1)


async def hash_password(password: str) -> str:
    """argon2id off the event loop."""
    return await to_thread.run_sync(security.hash_password, password, limiter=_HASHING)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """argon2 verification off the event loop."""
    return await to_thread.run_sync(
        security.verify_password, password_hash, password, limiter=_HASHING
    )


async def create_user(
    session: AsyncSession, email: str, password: str, name: str | None, role: Role = Role.CUSTOMER
) -> User:
    """A new account; 409 when the email is taken (in any letter case)."""
    email = normalize_email(email)
    ensure_password_acceptable(password, email)
    if await find_user_by_email(session, email) is not None:
        raise ConflictError("An account with this email already exists.")
    user = User(email=email, password_hash=await hash_password(password), name=name, role=role)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConflictError("An account with this email already exists.") from exc
    return user


async def register_user(
    session: AsyncSession, limiter: RateLimiter, settings: Settings, data: RegisterRequest
) -> User:
    """Self-service registration of a customer: welcomed, and sent a link to verify the email."""
    user = await create_user(session, data.email, data.password, data.name)
    await record_event(
        session, "user.registered", actor_id=user.id, target_type="user", target_id=user.id
    )
    await notify_welcome(session, settings, user)
    await send_verification_link(session, limiter, settings, user)
    return user


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    """The live account with this email, if any."""
    stmt = select(User).where(User.email == normalize_email(email), User.deleted_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


def _throttle_keys(email: str) -> tuple[str, str]:
    return f"login:account:{normalize_email(email)}", f"login:ip:{current_client_ip() or 'unknown'}"


async def _reserve_attempt(limiter: RateLimiter, settings: Settings, email: str) -> Reservation:
    """Count this sign-in attempt against the account and the address BEFORE checking it.

    Reserved first and atomically, so concurrent guesses cannot slip past the limit; a
    successful sign-in gives its reservation back (see `sign_in`).
    """
    account_key, ip_key = _throttle_keys(email)
    return await reserve_or_refuse(
        limiter,
        [
            (account_key, settings.login_max_failures_per_account),
            (ip_key, settings.login_max_failures_per_ip),
        ],
        settings.login_failure_window_seconds,
        "Too many failed sign-ins; try again later.",
    )


async def _fail_sign_in(
    session: AsyncSession,
    email: str,
    user_id: uuid.UUID | None,
    reason: str,
) -> InvalidCredentialsError:
    await record_event(
        session,
        "auth.sign_in_failed",
        actor_id=None,
        target_type="user",
        target_id=user_id,
        details={"reason": reason, "email": normalize_email(email)[:320]},
    )
    if reason == "totp_missing":
        return InvalidCredentialsError(
            "A two-factor code is required.", extra={"totp_required": True}
        )
    return InvalidCredentialsError()


async def _check_password(
    session: AsyncSession, email: str, password: str
) -> tuple[uuid.UUID | None, User | None]:
    """The account's id (if any) and the account when the password matches (same work either way).

    The read-only transaction is ended before hashing so that tens of milliseconds of argon2
    never hold a pooled connection; the user is then loaded again.
    """
    found = await find_user_by_email(session, email)
    user_id, password_hash = (found.id, found.password_hash) if found else (None, None)
    await session.rollback()
    if not await verify_password(password_hash, password) or user_id is None:
        return user_id, None
    return user_id, await session.get(User, user_id)


async def sign_in(
    session: AsyncSession,
    limiter: RateLimiter,
    settings: Settings,
    email: str,
    password: str,
    totp_code: str | None,
    user_agent: str | None,
) -> SignIn:
    """Check credentials (and the TOTP code when enabled) and open a session."""
    attempts = await _reserve_attempt(limiter, settings, email)
    user_id, user = await _check_password(session, email, password)
    if user is None:
        raise await _fail_sign_in(session, email, user_id, "bad_credentials")
    if user.totp_enabled_at is not None and user.totp_secret:
        if totp_code is None:
            raise await _fail_sign_in(session, email, user.id, "totp_missing")
        if not await accept_second_factor(session, user, totp_code):
            raise await _fail_sign_in(session, email, user.id, "totp_wrong")
    if not user.is_active:
        raise AccountSuspendedError()
    account_key, ip_key = _throttle_keys(email)
    await limiter.clear(account_key)  # the account's failures are forgiven
    await limiter.release(attempts, ip_key)  # and this success does not count against the address
    if security.needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    return await open_session(session, settings, user, user_agent)


async def open_session(
    session: AsyncSession, settings: Settings, user: User, user_agent: str | None
) -> SignIn:
    """Issue a new opaque token for `user`; only its hash is stored."""
    token = new_token()
    now = utcnow()
    auth = AuthSession(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(hours=settings.session_ttl_hours),
        ip=current_client_ip(),
        user_agent=(user_agent or "")[:400] or None,
    )
    session.add(auth)
    await session.flush()
    await record_event(
        session, "auth.sign_in", actor_id=user.id, target_type="user", target_id=user.id
    )
    return SignIn(token=token, session=auth, user=user)


# Built once (no per-call construction or cache-key work): it runs on every signed-in request.
_LIVE = (
    AuthSession.revoked_at.is_(None),
    AuthSession.expires_at > bindparam("now"),
    User.deleted_at.is_(None),
    User.is_active.is_(True),
)
"""What makes a token's session live: THE rule, for both lookups below."""
_LIVE_SESSION = (
    select(User, AuthSession)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(AuthSession.token_hash == bindparam("token_hash"), *_LIVE)
)
_LIVE_USER_IDS = (
    select(AuthSession.token_hash, User.id)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(AuthSession.token_hash == any_(cast(bindparam("token_hashes"), ARRAY(Text))), *_LIVE)
)


async def resolve_token(session: AsyncSession, token: str) -> tuple[User, AuthSession] | None:
    """The user and session behind a live, unrevoked, unexpired token."""
    params = {"token_hash": hash_token(token), "now": utcnow()}
    row = (await session.execute(_LIVE_SESSION, params)).one_or_none()
    return None if row is None else (row[0], row[1])


class SignedInCallers:
    """Who is signed in behind a token, for the routes that need only the caller's id (the
    product page's hot paths, the cart's read). Lookups made while one is under way go together
    in one statement (`kit.batching`), on `database` (an autocommit engine: no BEGIN/COMMIT)."""

    def __init__(self, database: AsyncEngine) -> None:
        self.database = database
        self._batches: Batcher[str, uuid.UUID | None] = Batcher(self._look_up)

    async def user_id(self, token: str) -> uuid.UUID | None:
        """The id of the user whose live session `token` is; None for any other token."""
        return await self._batches.submit(hash_token(token))

    async def _look_up(self, token_hashes: list[str]) -> list[uuid.UUID | None]:
        params = {"token_hashes": sorted(set(token_hashes)), "now": utcnow()}
        async with self.database.connect() as connection:
            found = dict((await connection.execute(_LIVE_USER_IDS, params)).tuples().all())
        return [found.get(token_hash) for token_hash in token_hashes]


async def sign_out(session: AsyncSession, auth: AuthSession) -> None:
    """Revoke the token at once."""
    auth.revoked_at = utcnow()
    await session.flush()
    await record_event(
        session, "auth.sign_out", actor_id=auth.user_id, target_type="user", target_id=auth.user_id
    )


async def revoke_all_sessions(
    session: AsyncSession, user_id: uuid.UUID, keep: uuid.UUID | None = None
) -> None:
    """Revoke every live session of a user, except `keep`."""
    stmt = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    await session.execute(stmt.values(revoked_at=utcnow()))


async def change_password(
    session: AsyncSession, user: User, auth: AuthSession, current: str, new: str
) -> None:
    """Change the password after checking the current one; other sessions are signed out."""
    if not await verify_password(user.password_hash, current):
        raise ValidationFailedError(
            "The current password is incorrect.",
            errors=[{"field": "current_password", "message": "incorrect"}],
        )
    ensure_password_acceptable(new, user.email, field="new_password")
    user.password_hash = await hash_password(new)
    user.password_changed_at = utcnow()
    await revoke_all_sessions(session, user.id, keep=auth.id)
    await record_event(
        session, "user.password_changed", actor_id=user.id, target_type="user", target_id=user.id
    )


async def _lock_admins(session: AsyncSession) -> set[uuid.UUID]:
    """Lock the active admins' rows, in id order, and return their ids.

    Every role change and suspension takes this lock first, before the target's row: two
    admins demoting each other at once then queue here instead of deadlocking, and the
    second sees the first's change (the last-admin rule holds under concurrency).
    """
    stmt = (
        select(User.id)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.deleted_at.is_(None))
        .order_by(User.id)
        .with_for_update()
    )
    return set((await session.execute(stmt)).scalars())


def _ensure_an_admin_remains(admins: set[uuid.UUID], user: User) -> None:
    """409 when `user` is the last active admin: nobody may remove the last one."""
    if admins <= {user.id}:
        raise ConflictError("The last administrator cannot be removed.")


async def _account_for_staff_change(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None or user.deleted_at is not None:
        raise NotFoundError("No such user.")
    return user


async def list_staff(session: AsyncSession) -> list[User]:
    """Active, undeleted staff and admins, by name then email."""
    rows = await session.scalars(
        select(User)
        .where(User.role.in_(STAFF_ROLES), User.deleted_at.is_(None), User.is_active)
        .order_by(User.name, User.email)
    )
    return list(rows)


async def change_role(session: AsyncSession, admin: User, user_id: uuid.UUID, role: Role) -> User:
    """An admin changes a user's role; audited, and the user's sessions are revoked.

    Only admins grant or remove staff and admin (the route requires an admin, and the actor
    must still be one once the admins are locked); the last active admin cannot be demoted.
    """
    admins = await _lock_admins(session)
    if admin.id not in admins:
        raise ForbiddenError("This action is for administrators only.")
    user = await _account_for_staff_change(session, user_id)
    if user.role == Role.ADMIN and role != Role.ADMIN:
        _ensure_an_admin_remains(admins, user)
    previous, user.role = user.role, role
    await revoke_all_sessions(session, user.id)
    await record_event(
        session,
        "user.role_changed",
        actor_id=admin.id,
        target_type="user",
        target_id=user.id,
        details={"from": previous, "to": role},
    )
    return user


async def set_active(session: AsyncSession, actor: User, user_id: uuid.UUID, active: bool) -> User:
    """Suspend or reactivate an account; a suspended one's sessions end at once. Audited.

    Staff may suspend customers; only an admin suspends staff or admins; nobody suspends
    themselves, and the last active admin cannot be suspended.
    """
    admins = await _lock_admins(session)
    user = await _account_for_staff_change(session, user_id)
    if user.is_staff and actor.role != Role.ADMIN:
        raise ForbiddenError("Only an administrator can suspend or reactivate staff.")
    if user.id == actor.id and not active:
        raise ConflictError("You cannot suspend your own account.")
    if user.is_active == active:
        return user
    if not active and user.role == Role.ADMIN:
        _ensure_an_admin_remains(admins, user)
    user.is_active = active
    user.suspended_at = None if active else utcnow()
    if not active:
        await revoke_all_sessions(session, user.id)
    await record_event(
        session,
        "user.reactivated" if active else "user.suspended",
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
    )
    return user


async def delete_expired_sessions(session: AsyncSession, keep_days: int) -> int:
    """Delete sign-in sessions expired or revoked more than `keep_days` ago; the count deleted."""
    cutoff = utcnow() - timedelta(days=keep_days)
    result = await session.execute(
        delete(AuthSession).where(
            or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff)
        )
    )
    return rows_affected(result)
