"""Auth and account endpoints (contract: "Auth and account")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from elysium.accounts import oauth, profile, recovery, service, two_factor
from elysium.accounts.deps import (
    AccountRequestLimit,
    AdminUser,
    AuthDep,
    CurrentUser,
    set_session_cookie,
)
from elysium.accounts.schemas import (
    Accepted,
    AddressRead,
    AddressWrite,
    EmailChange,
    EmailVerificationConfirm,
    LoginRequest,
    LoginResponse,
    PasswordChange,
    PasswordConfirm,
    PasswordResetConfirm,
    PasswordResetRequest,
    ProfileRead,
    ProfileUpdate,
    RecoveryCodes,
    RegisterRequest,
    RoleChange,
    SecondFactorConfirm,
    SessionRead,
    TotpCode,
    TotpSetup,
    UserRead,
)
from elysium.cart.service import merge_guest_cart
from elysium.db import SessionDep
from elysium.kit.deps import RateLimiterDep, SettingsDep

router = APIRouter(tags=["auth and account"])


@router.post(
    "/api/auth/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AccountRequestLimit],
)
async def register(
    body: RegisterRequest, session: SessionDep, limiter: RateLimiterDep, settings: SettingsDep
) -> dict[str, UserRead]:
    """Create a customer account. 409 when the email is taken, 422 for a weak password.

    A link to verify the email is sent (`POST /api/auth/verify-email/confirm`).
    """
    user = await service.register_user(session, limiter, settings, body)
    return {"user": UserRead.model_validate(user)}


@router.post("/api/auth/login")
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    limiter: RateLimiterDep,
    settings: SettingsDep,
) -> LoginResponse:
    """Sign in; the token is returned and also set as an httpOnly session cookie.

    A guest's cart sent in `X-Cart-Token` is merged into the account's cart.
    """
    result = await service.sign_in(
        session,
        limiter,
        settings,
        body.email,
        body.password,
        body.totp_code,
        request.headers.get("user-agent"),
    )
    if cart_token := request.headers.get("x-cart-token"):
        await merge_guest_cart(session, result.user.id, cart_token)
    set_session_cookie(response, settings, result.token)
    return LoginResponse(
        token=result.token,
        expires_at=result.session.expires_at,
        user=UserRead.model_validate(result.user),
    )


OAuthParam = Annotated[str | None, Query(max_length=2000)]


@router.get(
    "/api/auth/oauth/google/start",
    response_class=RedirectResponse,
    status_code=status.HTTP_302_FOUND,
    responses={302: {"description": "To Google's consent page."}},
)
async def google_start(settings: SettingsDep) -> RedirectResponse:
    """Sign in with Google: redirect to Google (PKCE, state and nonce; kept in a signed,
    httpOnly cookie for ten minutes). 404 when GOOGLE_CLIENT_ID/SECRET are not set."""
    url, cookie = await oauth.start(settings)
    response = RedirectResponse(url, status_code=status.HTTP_302_FOUND)
    response.set_cookie(
        oauth.FLOW_COOKIE,
        cookie,
        max_age=oauth.FLOW_MAX_AGE_SECONDS,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path=oauth.FLOW_COOKIE_PATH,
    )
    return response


@router.get(
    "/api/auth/oauth/google/callback",
    response_class=RedirectResponse,
    status_code=status.HTTP_302_FOUND,
    responses={302: {"description": "Signed in: to PUBLIC_BASE_URL with the session cookie."}},
)
async def google_callback(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    state: OAuthParam = None,
    code: OAuthParam = None,
    error: OAuthParam = None,
) -> RedirectResponse:
    """Google sends the browser back here: state, PKCE and nonce are checked and the ID token
    verified against Google's keys; the account linked to the Google subject (or, when Google
    has verified the email, the account with that email, or a new one) is signed in.

    400 when the answer cannot be trusted; 403 for an unverified email or a suspended account.
    """
    result = await oauth.finish(
        session,
        settings,
        request.cookies.get(oauth.FLOW_COOKIE),
        state,
        code,
        error,
        request.headers.get("user-agent"),
    )
    response = RedirectResponse(settings.public_base_url, status_code=status.HTTP_302_FOUND)
    set_session_cookie(response, settings, result.token)
    response.delete_cookie(oauth.FLOW_COOKIE, path=oauth.FLOW_COOKIE_PATH)
    return response


@router.get("/api/auth/session")
async def current_session(auth: AuthDep) -> SessionRead:
    """The signed-in user and when the session expires."""
    return SessionRead(
        user=UserRead.model_validate(auth.user),
        expires_at=auth.session.expires_at,
        two_factor_enabled=auth.user.totp_enabled_at is not None,
    )


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    auth: AuthDep, session: SessionDep, response: Response, settings: SettingsDep
) -> None:
    """Revoke the current token at once and clear the cookie."""
    await service.sign_out(session, auth.session)
    response.delete_cookie(settings.session_cookie_name, path="/")


@router.put("/api/auth/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: PasswordChange, auth: AuthDep, session: SessionDep) -> None:
    """Change the password; every other session is signed out."""
    await service.change_password(
        session, auth.user, auth.session, body.current_password, body.new_password
    )


@router.post("/api/auth/password-reset", status_code=status.HTTP_202_ACCEPTED)
async def request_password_reset(
    body: PasswordResetRequest,
    session: SessionDep,
    limiter: RateLimiterDep,
    settings: SettingsDep,
) -> Accepted:
    """Email a single-use link to choose a new password (valid PASSWORD_RESET_TTL_MINUTES).

    Always 202 with the same body, whether or not an account uses the address; 429 when the
    address or the client IP asked too often.
    """
    await recovery.request_password_reset(session, limiter, settings, body.email)
    return Accepted(detail=recovery.RESET_ACCEPTED)


@router.post(
    "/api/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AccountRequestLimit],
)
async def confirm_password_reset(
    body: PasswordResetConfirm, session: SessionDep, settings: SettingsDep
) -> None:
    """Set a new password with the emailed token; every session of the account ends.

    422 for an unknown, used, superseded or expired token, or a weak password.
    """
    await recovery.reset_password(session, settings, body.token, body.password)


@router.post("/api/auth/verify-email", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(
    user: CurrentUser, session: SessionDep, limiter: RateLimiterDep, settings: SettingsDep
) -> Accepted:
    """Email a new link to verify the account's address; 409 when it is already verified."""
    await recovery.resend_verification(session, limiter, settings, user)
    return Accepted(detail="We have emailed you a link to verify your address.")


@router.post(
    "/api/auth/verify-email/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AccountRequestLimit],
)
async def confirm_email(body: EmailVerificationConfirm, session: SessionDep) -> None:
    """Verify the address with the emailed token (422 when invalid, used or expired)."""
    await recovery.verify_email(session, body.token)


@router.put("/api/user/email")
async def change_email(
    body: EmailChange,
    user: CurrentUser,
    session: SessionDep,
    limiter: RateLimiterDep,
    settings: SettingsDep,
) -> UserRead:
    """Change the account's email with the password: the new address gets a verification
    link and the old one a notice. 409 when another account uses it."""
    changed = await recovery.change_email(
        session, limiter, settings, user, body.email, body.password
    )
    return UserRead.model_validate(changed)


@router.post("/api/auth/2fa/setup")
async def totp_setup(body: PasswordConfirm, user: CurrentUser, session: SessionDep) -> TotpSetup:
    """Start two-factor set-up (password required): a secret and an otpauth:// URI to scan."""
    secret, uri = await two_factor.start_enrolment(session, user, body.password)
    return TotpSetup(secret=secret, otpauth_uri=uri)


@router.post("/api/auth/2fa/enable")
async def totp_enable(body: TotpCode, auth: AuthDep, session: SessionDep) -> RecoveryCodes:
    """Confirm a code from the app; sign-ins then need a code. Returns ten recovery codes, once.

    Every other session is signed out.
    """
    codes = await two_factor.confirm_enrolment(session, auth.user, auth.session, body.code)
    return RecoveryCodes(recovery_codes=codes)


@router.post("/api/auth/2fa/recovery-codes")
async def totp_recovery_codes(
    body: SecondFactorConfirm, auth: AuthDep, session: SessionDep
) -> RecoveryCodes:
    """Ten new recovery codes (the old ones stop working); needs the password and a code."""
    codes = await two_factor.regenerate_recovery_codes(
        session, auth.user, auth.session, body.password, body.code
    )
    return RecoveryCodes(recovery_codes=codes)


@router.post("/api/auth/2fa/disable", status_code=status.HTTP_204_NO_CONTENT)
async def totp_disable(body: SecondFactorConfirm, auth: AuthDep, session: SessionDep) -> None:
    """Turn two-factor off with the password and a code; other sessions are signed out."""
    await two_factor.disable(session, auth.user, auth.session, body.password, body.code)


@router.post("/api/admin/users/{user_id}/reset-2fa", status_code=status.HTTP_204_NO_CONTENT)
async def totp_reset(user_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> None:
    """Admin reset of a user's two-factor (a lost device); their sessions end. Audited."""
    await two_factor.reset_for(session, admin, user_id)


@router.put("/api/admin/users/{user_id}/role")
async def change_role(
    user_id: uuid.UUID, body: RoleChange, admin: AdminUser, session: SessionDep
) -> UserRead:
    """Change a user's role (admin only); audited; the user's sessions are revoked."""
    return UserRead.model_validate(await service.change_role(session, admin, user_id, body.role))


@router.get("/api/user/profile")
async def get_profile(user: CurrentUser) -> ProfileRead:
    """The signed-in user's profile."""
    return ProfileRead.model_validate(user)


@router.put("/api/user/profile")
async def put_profile(
    body: ProfileUpdate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ProfileRead:
    """Update the profile; fields left out keep their value.

    `marketing_opt_in` is the marketing-by-email contact preference; a change is recorded as
    consent (see `/api/user/contact-preferences`).
    """
    return ProfileRead.model_validate(await profile.update_profile(session, settings, user, body))


@router.get("/api/user/addresses")
async def list_addresses(user: CurrentUser, session: SessionDep) -> list[AddressRead]:
    """The signed-in user's billing and shipping addresses."""
    return [AddressRead.model_validate(a) for a in await profile.list_addresses(session, user)]


@router.post("/api/user/addresses", status_code=status.HTTP_201_CREATED)
async def add_address(body: AddressWrite, user: CurrentUser, session: SessionDep) -> AddressRead:
    """Add an address; `is_default` makes it the default of its type."""
    return AddressRead.model_validate(await profile.add_address(session, user, body))


@router.put("/api/user/addresses/{address_id}")
async def put_address(
    address_id: uuid.UUID, body: AddressWrite, user: CurrentUser, session: SessionDep
) -> AddressRead:
    """Replace one of your addresses; another user's is 404."""
    return AddressRead.model_validate(
        await profile.replace_address(session, user, address_id, body)
    )


@router.delete("/api/user/addresses/{address_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_address(address_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> None:
    """Delete one of your addresses; another user's is 404."""
    await profile.delete_address(session, user, address_id)
