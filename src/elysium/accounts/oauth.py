"""Sign in with Google: the flow's secrets kept in a signed cookie, identities linked to
accounts, and a session opened as for a password sign-in."""

from __future__ import annotations

import hmac
import secrets
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.accounts import google
from elysium.accounts.google import FlowSecrets, GoogleClaims, GoogleSignInError
from elysium.accounts.service import (
    AccountSuspendedError,
    SignIn,
    find_user_by_email,
    hash_password,
    open_session,
)
from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.errors import ForbiddenError
from elysium.kit.clock import utcnow
from elysium.kit.tokens import sign, signature_matches
from elysium.models import User, UserIdentity
from elysium.models.user import IdentityProvider
from elysium.notifications.emails import notify_welcome

FLOW_COOKIE = "elysium_oauth"
FLOW_COOKIE_PATH = "/api/auth/oauth/google"
FLOW_MAX_AGE_SECONDS = 600
_PURPOSE = "oauth-google-flow"


def _secret(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def flow_cookie(settings: Settings, flow: FlowSecrets) -> str:
    """state.nonce.verifier.issued-at, signed with SECRET_KEY (none of them contain dots)."""
    value = f"{flow.state}.{flow.nonce}.{flow.code_verifier}.{int(time.time())}"
    return f"{value}.{sign(_secret(settings), _PURPOSE, value)}"


def read_flow_cookie(settings: Settings, cookie: str | None, state: str | None) -> FlowSecrets:
    """The flow started in this browser, if the cookie is genuine, fresh and its state matches."""
    parts = (cookie or "").split(".")
    if len(parts) != 5 or not state:
        raise GoogleSignInError("The sign-in was not started here, or took too long.")
    value, signature = ".".join(parts[:4]), parts[4]
    if not signature_matches(_secret(settings), _PURPOSE, value, signature):
        raise GoogleSignInError("The sign-in was not started here, or took too long.")
    expected_state, nonce, verifier, issued = parts[:4]
    if not issued.isdigit() or time.time() - int(issued) > FLOW_MAX_AGE_SECONDS:
        raise GoogleSignInError("The sign-in was not started here, or took too long.")
    if not hmac.compare_digest(expected_state, state):
        raise GoogleSignInError("The sign-in's state does not match.")
    return FlowSecrets(state=expected_state, nonce=nonce, code_verifier=verifier)


async def start(settings: Settings) -> tuple[str, str]:
    """The provider URL to redirect to and the cookie keeping the flow's secrets."""
    google.ensure_enabled(settings)
    flow = google.new_flow()
    return await google.authorization_url(settings, flow), flow_cookie(settings, flow)


async def finish(
    session: AsyncSession,
    settings: Settings,
    cookie: str | None,
    state: str | None,
    code: str | None,
    error: str | None,
    user_agent: str | None,
) -> SignIn:
    """Check the callback, verify the ID token, find or link the account and open a session."""
    google.ensure_enabled(settings)
    if error or not code:
        raise GoogleSignInError("Sign-in with Google was cancelled or refused.")
    flow = read_flow_cookie(settings, cookie, state)
    claims = await google.exchange_code(settings, flow, code)  # before any row is touched
    user = await _account_for(session, settings, claims)
    if not user.is_active:
        raise AccountSuspendedError()
    return await open_session(session, settings, user, user_agent)


async def _account_for(session: AsyncSession, settings: Settings, claims: GoogleClaims) -> User:
    """The account linked to this Google subject; else link (or create) the one with the
    email, but only when Google says it has verified that email."""
    stmt = (
        select(User)
        .join(UserIdentity, UserIdentity.user_id == User.id)
        .where(
            UserIdentity.provider == IdentityProvider.GOOGLE,
            UserIdentity.subject == claims.subject,
            User.deleted_at.is_(None),
        )
    )
    linked = (await session.execute(stmt)).scalar_one_or_none()
    if linked is not None:
        return linked
    if claims.email is None or not claims.email_verified:
        raise ForbiddenError(
            "Google has not verified this email address, so it cannot be linked to an account."
        )
    user = await find_user_by_email(session, claims.email) or await _new_account(
        session, settings, claims
    )
    user.email_verified_at = user.email_verified_at or utcnow()
    session.add(
        UserIdentity(
            user_id=user.id,
            provider=IdentityProvider.GOOGLE,
            subject=claims.subject,
            email=claims.email,
            created_at=utcnow(),
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # the same subject linked by a concurrent callback
        raise GoogleSignInError("This Google account was linked meanwhile; try again.") from exc
    await record_event(
        session,
        "user.identity_linked",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        details={"provider": IdentityProvider.GOOGLE},
    )
    return user


async def _new_account(session: AsyncSession, settings: Settings, claims: GoogleClaims) -> User:
    """A customer account for a verified Google email, welcomed; its password is random and
    unknown (a password reset sets one)."""
    assert claims.email is not None
    user = User(
        email=claims.email,
        password_hash=await hash_password(secrets.token_urlsafe(32)),
        name=claims.name,
    )
    session.add(user)
    await session.flush()
    await record_event(
        session,
        "user.registered",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        details={"via": IdentityProvider.GOOGLE},
    )
    await notify_welcome(session, settings, user)
    return user
