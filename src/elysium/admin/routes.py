"""Staff pages under /admin: server-rendered, signed in with the session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from elysium.accounts import service as accounts
from elysium.accounts.deps import Auth, optional_auth, set_staff_cookie
from elysium.admin.security import csrf_protect, read_form
from elysium.admin.templating import templates
from elysium.db import SessionDep
from elysium.errors import ElysiumError, UnauthorizedError
from elysium.kit.deps import RateLimiterDep, SettingsDep

# Every /admin POST is checked for this browser's CSRF token before anything else runs.
router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])


def error_page(request: Request, exc: ElysiumError) -> Response | None:
    """How `/admin` shows the errors the API answers as problem+json (None elsewhere).

    Pages use the API's own `StaffUser`/`AdminUser` dependencies, so the rules are one: signed
    out goes to the sign-in page, any other refusal is shown as a page with the same status.
    """
    path = request.url.path
    if path != "/admin" and not path.startswith("/admin/"):
        return None
    if isinstance(exc, UnauthorizedError):
        return RedirectResponse("/admin/login", status_code=303)
    context = {"staff": None, "title": exc.title, "detail": exc.detail, "slug": exc.type_slug}
    return templates.TemplateResponse(request, "error.html", context, status_code=exc.status)


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"staff": None})


@router.post("/login")
async def login(
    request: Request, session: SessionDep, limiter: RateLimiterDep, settings: SettingsDep
) -> Response:
    form = await read_form(request)
    try:
        result = await accounts.sign_in(
            session,
            limiter,
            settings,
            form.get("email", ""),
            form.get("password", ""),
            form.get("totp_code") or None,
            request.headers.get("user-agent"),
        )
    except ElysiumError as exc:
        if exc.keep_changes:
            await session.commit()
        context = {
            "staff": None,
            "error": exc.detail,
            "email": form.get("email", ""),
            "totp_required": bool(exc.extra.get("totp_required")),
        }
        return templates.TemplateResponse(request, "login.html", context, status_code=exc.status)
    if not result.user.is_staff:
        await session.rollback()
        return templates.TemplateResponse(
            request, "login.html", {"staff": None, "error": "Staff only."}, status_code=403
        )
    response = RedirectResponse("/admin", status_code=303)
    set_staff_cookie(response, settings, result.token)
    return response


@router.post("/logout")
async def logout(
    session: SessionDep, settings: SettingsDep, auth: Annotated[Auth | None, Depends(optional_auth)]
) -> Response:
    if auth is not None:
        await accounts.sign_out(session, auth.session)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(settings.staff_cookie_name, path="/admin")
    return response
