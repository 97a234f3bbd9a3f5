"""Who is calling: `CurrentUser`, `OptionalUser`, `StaffUser`, `AdminUser` and the session."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from elysium.accounts.service import SignedInCallers, resolve_token
from elysium.config import Settings
from elysium.db import SessionDep
from elysium.errors import ForbiddenError, UnauthorizedError
from elysium.kit.context import current_client_ip
from elysium.kit.deps import SettingsDep
from elysium.kit.ratelimit import reserve_or_refuse
from elysium.kit.tokens import hash_token
from elysium.models import AuthSession, User
from elysium.models.user import Role


@dataclass(frozen=True)
class Auth:
    user: User
    session: AuthSession


def bearer_token(request: Request, settings: Settings) -> str | None:
    """The token from `Authorization: Bearer` or, failing that, a session cookie.

    The back office's cookie (path /admin, so only ever sent there) comes before the shop's.
    """
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    cookies = request.cookies
    return cookies.get(settings.staff_cookie_name) or cookies.get(settings.session_cookie_name)


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    """The httpOnly, SameSite=Lax session cookie (Secure unless COOKIE_SECURE=false)."""
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def set_staff_cookie(response: Response, settings: Settings, token: str) -> None:
    """The back office's session cookie: httpOnly, SameSite=Strict, sent only under /admin."""
    response.set_cookie(
        settings.staff_cookie_name,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path="/admin",
    )


async def optional_auth(
    request: Request, session: SessionDep, settings: SettingsDep
) -> Auth | None:
    """The caller's session, or None for a guest; a bad token counts as none."""
    token = bearer_token(request, settings)
    if token is None or len(token) > 200:
        return None
    found = await resolve_token(session, token)
    return None if found is None else Auth(user=found[0], session=found[1])


async def caller_id(request: Request) -> uuid.UUID | None:
    """The signed-in caller's user id, None for a guest or a bad token: `optional_auth` for the
    routes that need only that and no transaction of their own (the product page's view
    tracking and recently viewed, the cart's read). A guest costs no database round trip; a
    token, a share of one (`accounts.service.SignedInCallers`)."""
    state = request.app.state
    token = bearer_token(request, state.settings)
    if token is None or len(token) > 200:
        return None
    callers: SignedInCallers = state.signed_in_callers
    return await callers.user_id(token)


async def require_auth(auth: Annotated[Auth | None, Depends(optional_auth)]) -> Auth:
    """401 unless signed in."""
    if auth is None:
        raise UnauthorizedError()
    return auth


async def require_user(auth: Annotated[Auth, Depends(require_auth)]) -> User:
    return auth.user


async def optional_user(auth: Annotated[Auth | None, Depends(optional_auth)]) -> User | None:
    return None if auth is None else auth.user


class TwoFactorRequiredError(ForbiddenError):
    """Staff without two-factor while STAFF_REQUIRE_2FA is on: enrol first."""

    type_slug = "two-factor-required"

    def __init__(self) -> None:
        super().__init__("Enable two-factor authentication to use staff tools.")


def check_staff(user: User, settings: Settings, *, enrolling: bool = False) -> None:
    """THE staff rule, for the API and every /admin page and action alike.

    403 unless staff or admin, with two-factor enabled when STAFF_REQUIRE_2FA is on (except on
    the two-factor enrolment pages themselves, `enrolling`, which must be reachable to enrol).
    """
    if not user.is_staff:
        raise ForbiddenError("This action is for staff only.")
    if not enrolling and settings.staff_require_2fa and user.totp_enabled_at is None:
        raise TwoFactorRequiredError()


async def require_staff(
    user: Annotated[User, Depends(require_user)], settings: SettingsDep
) -> User:
    """401 when signed out; 403 unless `check_staff` passes. `/admin` uses this very dependency."""
    check_staff(user, settings)
    return user


async def require_staff_enrolling(
    auth: Annotated[Auth, Depends(require_auth)], settings: SettingsDep
) -> Auth:
    """The staff rule without the two-factor requirement: for the enrolment pages only."""
    check_staff(auth.user, settings, enrolling=True)
    return auth


async def require_admin(user: Annotated[User, Depends(require_staff)]) -> User:
    """403 unless admin."""
    if user.role != Role.ADMIN:
        raise ForbiddenError("This action is for administrators only.")
    return user


AuthDep = Annotated[Auth, Depends(require_auth)]
CurrentUser = Annotated[User, Depends(require_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
CallerId = Annotated[uuid.UUID | None, Depends(caller_id)]
StaffUser = Annotated[User, Depends(require_staff)]
AdminUser = Annotated[User, Depends(require_admin)]
StaffEnrolling = Annotated[Auth, Depends(require_staff_enrolling)]


class WriteBucket(StrEnum):
    """Kinds of write that share a limit; each route names its bucket once."""

    GENERAL = "general"  # cart lines, saved configurations, wishlist, product views
    COUPON = "coupon"  # coupon attempts: also limited per cart
    ENQUIRY = "enquiry"  # bespoke enquiries and reviews: text that staff read and that emails
    ACCOUNT = "account"  # registration, password reset, email verification


@dataclass(frozen=True)
class _Rule:
    per_ip: Callable[[Settings], int]
    per_account: Callable[[Settings], int]
    window: int


_RULES = {
    WriteBucket.GENERAL: _Rule(
        lambda s: s.anonymous_writes_per_minute, lambda s: s.account_writes_per_minute, 60
    ),
    WriteBucket.COUPON: _Rule(
        lambda s: s.coupon_attempts_per_hour, lambda s: s.coupon_attempts_per_hour, 3600
    ),
    WriteBucket.ENQUIRY: _Rule(
        lambda s: s.enquiries_per_hour, lambda s: s.enquiries_per_hour, 3600
    ),
    WriteBucket.ACCOUNT: _Rule(
        lambda s: s.account_requests_per_hour, lambda s: s.account_requests_per_hour, 3600
    ),
}


def _limit_keys(
    bucket: WriteBucket, request: Request, user_id: uuid.UUID | None, settings: Settings
) -> list[tuple[str, int]]:
    rule = _RULES[bucket]
    keys = [(f"w:{bucket}:ip:{current_client_ip() or 'unknown'}", rule.per_ip(settings))]
    if user_id is not None:
        keys.append((f"w:{bucket}:user:{user_id}", rule.per_account(settings)))
    if bucket is WriteBucket.COUPON:
        cart_token = request.headers.get("x-cart-token", "")[:200]
        cart = str(user_id) if user_id is not None else hash_token(cart_token)[:32]
        keys.append((f"w:coupon:cart:{cart}", settings.coupon_attempts_per_cart))
    return keys


def limit_writes(bucket: WriteBucket, who: Callable[..., Any] = optional_auth) -> Any:
    """A route dependency: 429 once this client (its address, and its account when signed in)
    has used up the bucket's writes in the window. Counted atomically before the write runs.
    `who` is how the route knows its caller: `optional_auth`, or `caller_id`."""

    async def check(request: Request, caller: Auth | uuid.UUID | None) -> None:
        state = request.app.state
        user_id = caller.user.id if isinstance(caller, Auth) else caller
        limits = _limit_keys(bucket, request, user_id, state.settings)
        await reserve_or_refuse(
            state.rate_limiter,
            limits,
            _RULES[bucket].window,
            "Too many requests; please slow down.",
        )

    # Set here, not in the signature: `who` is local, and annotations are strings in this module.
    check.__annotations__["caller"] = Annotated[Auth | uuid.UUID | None, Depends(who)]
    return Depends(check)


AnonymousWriteLimit = limit_writes(WriteBucket.GENERAL)
SessionlessWriteLimit = limit_writes(WriteBucket.GENERAL, caller_id)
CouponAttemptLimit = limit_writes(WriteBucket.COUPON)
EnquiryLimit = limit_writes(WriteBucket.ENQUIRY)
AccountRequestLimit = limit_writes(WriteBucket.ACCOUNT)
