"""/admin/two-factor: the signed-in staff member's own two-factor set-up, recovery codes, disable.

Reachable with only a signed-in staff account (not the full staff rule), so that a staff member
told to enrol under STAFF_REQUIRE_2FA can do so. The QR code is drawn here, as SVG, by `segno`.
Each step calls the same `accounts.two_factor` functions as POST /api/auth/2fa/*.
"""

from __future__ import annotations

import base64
import io

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from elysium.accounts import two_factor
from elysium.accounts.deps import Auth, StaffEnrolling
from elysium.accounts.second_factor import recovery_codes_left
from elysium.admin.pages import done, render
from elysium.admin.security import csrf_protect, read_form
from elysium.db import SessionDep
from elysium.errors import ElysiumError

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])
NOTICES = {"disabled": "Two-factor authentication is now off for your account."}


StaffAuth = StaffEnrolling  # staff who may not have two-factor yet: they come to enrol


def qr_data_uri(uri: str) -> str:
    """The otpauth:// URI as a QR code: an SVG `data:` URI (the CSP allows `img-src data:`)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer, kind="svg", scale=5, border=4, dark="#1b1a17", light="#ffffff", xmldecl=False
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


async def _page(
    request: Request,
    auth: Auth,
    session: SessionDep,
    *,
    error: ElysiumError | None = None,
    **context: object,
) -> Response:
    if error is not None:
        await session.rollback()
        await session.refresh(auth.user)
    user = auth.user
    return render(
        request,
        "two_factor.html",
        user,
        status_code=error.status if error is not None else 200,
        enabled=user.totp_enabled_at is not None,
        codes_left=await recovery_codes_left(session, user) if user.totp_enabled_at else 0,
        error=error.detail if error is not None else None,
        notice=NOTICES.get(request.query_params.get("done", "")),
        **context,
    )


@router.get("/two-factor")
async def two_factor_page(request: Request, auth: StaffAuth, session: SessionDep) -> Response:
    return await _page(request, auth, session)


@router.post("/two-factor/setup")
async def setup(request: Request, auth: StaffAuth, session: SessionDep) -> Response:
    """Step 1 (password): a new secret, shown as a QR code and as text."""
    form = await read_form(request)
    try:
        secret, uri = await two_factor.start_enrolment(session, auth.user, form.get("password", ""))
    except ElysiumError as exc:
        return await _page(request, auth, session, error=exc)
    return await _page(request, auth, session, secret=secret, qr=qr_data_uri(uri))


@router.post("/two-factor/enable")
async def enable(request: Request, auth: StaffAuth, session: SessionDep) -> Response:
    """Step 2 (a code from the app): two-factor on; the recovery codes are shown this once."""
    form = await read_form(request)
    try:
        codes = await two_factor.confirm_enrolment(
            session, auth.user, auth.session, form.get("code", "")
        )
    except ElysiumError as exc:
        return await _page(request, auth, session, error=exc)
    return await _page(request, auth, session, recovery_codes=codes)


@router.post("/two-factor/recovery-codes")
async def regenerate(request: Request, auth: StaffAuth, session: SessionDep) -> Response:
    """Ten new recovery codes (password and a current code); the old ones stop working."""
    form = await read_form(request)
    try:
        codes = await two_factor.regenerate_recovery_codes(
            session, auth.user, auth.session, form.get("password", ""), form.get("code", "")
        )
    except ElysiumError as exc:
        return await _page(request, auth, session, error=exc)
    return await _page(request, auth, session, recovery_codes=codes)


@router.post("/two-factor/disable")
async def disable(request: Request, auth: StaffAuth, session: SessionDep) -> Response:
    """Two-factor off (password and a current or recovery code)."""
    form = await read_form(request)
    try:
        await two_factor.disable(
            session, auth.user, auth.session, form.get("password", ""), form.get("code", "")
        )
    except ElysiumError as exc:
        return await _page(request, auth, session, error=exc)
    return done("/admin/two-factor", "disabled")
