"""Auth and account endpoints (contract: "Auth and account")."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from elysium.accounts import profile, service
from elysium.accounts.deps import (
    AdminUser,
    AnonymousWriteLimit,
    AuthDep,
    CurrentUser,
    set_session_cookie,
)
from elysium.accounts.schemas import (
    AddressRead,
    AddressWrite,
    LoginRequest,
    LoginResponse,
    PasswordChange,
    ProfileRead,
    ProfileUpdate,
    RegisterRequest,
    RoleChange,
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
    dependencies=[AnonymousWriteLimit],
)
async def register(
    body: RegisterRequest, session: SessionDep, settings: SettingsDep
) -> dict[str, UserRead]:
    """Create a customer account. 409 when the email is taken, 422 for a weak password."""
    user = await service.register_user(session, settings, body)
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


@router.post("/api/auth/2fa/setup")
async def totp_setup(user: CurrentUser, session: SessionDep) -> TotpSetup:
    """Start two-factor set-up: a secret and an otpauth:// URI for an authenticator app."""
    secret, uri = await service.start_totp_enrolment(session, user)
    return TotpSetup(secret=secret, otpauth_uri=uri)


@router.post("/api/auth/2fa/enable", status_code=status.HTTP_204_NO_CONTENT)
async def totp_enable(body: TotpCode, user: CurrentUser, session: SessionDep) -> None:
    """Confirm a code from the authenticator app; sign-ins then need a code."""
    await service.confirm_totp_enrolment(session, user, body.code)


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
