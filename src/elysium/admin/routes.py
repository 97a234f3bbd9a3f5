"""Staff pages under /admin: server-rendered, signed in with the session cookie."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from elysium.accounts import service as accounts
from elysium.accounts.deps import Auth, optional_auth, set_session_cookie
from elysium.admin import service
from elysium.db import ReadSessionDep, SessionDep
from elysium.errors import ElysiumError
from elysium.kit.deps import RateLimiterDep, SettingsDep
from elysium.models import User
from elysium.models.order import OrderStatus
from elysium.orders.read import get_order, list_all_orders
from elysium.orders.state import ALLOWED

router = APIRouter(prefix="/admin", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


async def staff_page_user(auth: Annotated[Auth | None, Depends(optional_auth)]) -> User | None:
    """The staff member behind the cookie, or None (the page then redirects to sign-in)."""
    return auth.user if auth is not None and auth.user.is_staff else None


StaffPage = Annotated[User | None, Depends(staff_page_user)]


def _page(request: Request, name: str, staff: User | None, **context: Any) -> Response:
    if staff is None:
        return RedirectResponse("/admin/login", status_code=303)
    return templates.TemplateResponse(request, name, {"staff": staff, **context})


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"staff": None})


@router.post("/login")
async def login(
    request: Request, session: SessionDep, limiter: RateLimiterDep, settings: SettingsDep
) -> Response:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
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
    set_session_cookie(response, settings, result.token)
    return response


@router.post("/logout")
async def logout(
    session: SessionDep, settings: SettingsDep, auth: Annotated[Auth | None, Depends(optional_auth)]
) -> Response:
    if auth is not None:
        await accounts.sign_out(session, auth.session)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(settings.session_cookie_name, path="/")
    return response


@router.get("")
async def dashboard(request: Request, staff: StaffPage, session: ReadSessionDep) -> Response:
    if staff is None:
        return _page(request, "dashboard.html", staff)
    counts = await service.dashboard_counts(session)
    latest = await list_all_orders(session, None, 10, None)
    return _page(request, "dashboard.html", staff, counts=counts, orders=latest.items)


@router.get("/orders")
async def orders(
    request: Request,
    staff: StaffPage,
    session: ReadSessionDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    if staff is None:
        return _page(request, "orders.html", staff)
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
    request: Request, order_id: uuid.UUID, staff: StaffPage, session: SessionDep
) -> Response:
    if staff is None:
        return _page(request, "order.html", staff)
    return _page(request, "order.html", staff, order=await get_order(session, staff, order_id))


LISTS = {
    "inventory": (
        "Low stock",
        service.low_stock_rows,
        [
            "product_slug",
            "variant_key",
            "stock_level",
            "reserved",
            "available",
            "low_stock_threshold",
        ],
    ),
    "bespoke": (
        "Bespoke enquiries",
        service.bespoke_rows,
        ["reference", "name", "email", "piece_type", "status", "created_at"],
    ),
    "reviews": (
        "Reviews to moderate",
        service.review_rows,
        ["product_slug", "rating", "title", "body", "created_at"],
    ),
    "consultations": (
        "Upcoming consultations",
        service.consultation_rows,
        ["starts_at", "customer_name", "customer_email", "topic", "notes"],
    ),
    "jobs": (
        "Failed jobs",
        service.failed_job_rows,
        ["id", "task", "args", "attempts", "last_error"],
    ),
}


@router.get("/{section}")
async def listing(
    request: Request, section: str, staff: StaffPage, session: SessionDep
) -> Response:
    if section not in LISTS:
        return HTMLResponse("Not found", status_code=404)
    if staff is None:
        return _page(request, "list.html", staff)
    heading, rows_of, columns = LISTS[section]
    rows = await rows_of(session)
    return _page(request, "list.html", staff, heading=heading, rows=rows, columns=columns)
