"""Staff pages under /admin: server-rendered, signed in with the session cookie."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from elysium.accounts import service as accounts
from elysium.accounts.deps import Auth, StaffUser, optional_auth, set_staff_cookie
from elysium.admin.format import FILTERS
from elysium.admin.security import csrf_field, csrf_protect, read_form
from elysium.db import SessionDep
from elysium.errors import ElysiumError, UnauthorizedError
from elysium.kit.deps import RateLimiterDep, SettingsDep
from elysium.models import User
from elysium.models.order import OrderStatus
from elysium.orders.read import get_order, list_all_orders
from elysium.orders.state import ALLOWED

# Every /admin POST is checked for this browser's CSRF token before anything else runs.
router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["csrf_field"] = csrf_field
templates.env.filters.update(FILTERS)
STATIC_DIR = Path(__file__).parent / "static"


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


def _page(request: Request, name: str, staff: User, **context: Any) -> Response:
    return templates.TemplateResponse(request, name, {"staff": staff, **context})


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
        page = templates.TemplateResponse(
            request, "login.html", {"staff": None, "error": exc.detail}, status_code=exc.status
        )
        return page
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


@router.get("/orders")
async def orders(
    request: Request,
    staff: StaffUser,
    session: SessionDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    wanted = OrderStatus(status) if status in ALLOWED else None
    page = await list_all_orders(session, wanted, 50, cursor)
    return _page(
        request,
        "orders.html",
        staff,
        orders=page.items,
        next_cursor=page.next_cursor,
        status=status,
        statuses=sorted(ALLOWED),
    )


@router.get("/orders/{order_id}")
async def order(
    request: Request, order_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    return _page(request, "order.html", staff, order=await get_order(session, staff, order_id))
