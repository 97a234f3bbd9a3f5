"""/admin/customers: search, the customer page, suspend/reactivate, role change, GDPR export.

Changes go through `admin.customer_view.update_customer`, the same call as
PATCH /api/admin/customers/{id} (which uses `accounts.service.set_active` and `change_role`).
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

from elysium.accounts import two_factor
from elysium.accounts.deps import AdminUser, StaffUser
from elysium.admin.customer_view import (
    customer_detail,
    search_customers,
    subject_access_export,
    update_customer,
)
from elysium.admin.pages import done, enum_or_none, render
from elysium.admin.schemas import CustomerPatch
from elysium.admin.security import csrf_protect, read_form
from elysium.db import SessionDep
from elysium.errors import ElysiumError, ValidationFailedError
from elysium.models import User
from elysium.models.user import Role

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])

PAGE_SIZE = 50
NOTICES = {
    "suspended": "Account suspended: its sessions have ended and it cannot sign in.",
    "reactivated": "Account reactivated.",
    "role": "Role changed; the account's sessions have ended.",
    "two-factor-reset": "Two-factor turned off for this account; its sessions have ended.",
}


@router.get("/customers")
async def customers(
    request: Request,
    staff: StaffUser,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    role: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    wanted = enum_or_none(Role, role)
    try:
        page = await search_customers(session, q, PAGE_SIZE, cursor, wanted)
        error = None
    except ElysiumError as exc:  # a cursor we did not issue
        page, error = await search_customers(session, q, PAGE_SIZE, None, wanted), exc.detail
    query = {k: v for k, v in {"q": (q or "").strip(), "role": wanted or ""}.items() if v}
    return render(
        request,
        "customers.html",
        staff,
        customers=page.items,
        next_cursor=page.next_cursor,
        q=q or "",
        role=wanted,
        roles=list(Role),
        query=query,
        error=error,
    )


async def _customer_page(
    request: Request,
    staff: User,
    session: SessionDep,
    customer_id: uuid.UUID,
    error: ElysiumError | None = None,
) -> Response:
    if error is not None:
        await session.rollback()
        await session.refresh(staff)
    customer = await customer_detail(session, customer_id)
    return render(
        request,
        "customer.html",
        staff,
        status_code=error.status if error is not None else 200,
        customer=customer,
        roles=list(Role),
        notice=NOTICES.get(request.query_params.get("done", "")),
        error=error.detail if error is not None else None,
        error_status=error.status if error is not None else None,
    )


@router.get("/customers/{customer_id}")
async def customer(
    request: Request, customer_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    return await _customer_page(request, staff, session, customer_id)


async def _patch(
    request: Request,
    staff: User,
    session: SessionDep,
    customer_id: uuid.UUID,
    patch: CustomerPatch,
    notice: str,
) -> Response:
    try:
        await update_customer(session, staff, customer_id, patch)
    except ElysiumError as exc:
        return await _customer_page(request, staff, session, customer_id, exc)
    return done(f"/admin/customers/{customer_id}", notice)


@router.post("/customers/{customer_id}/suspend")
async def suspend(
    request: Request, customer_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    """Suspend: the account's sessions end at once and it cannot sign in (audited)."""
    patch = CustomerPatch(is_active=False)
    return await _patch(request, staff, session, customer_id, patch, "suspended")


@router.post("/customers/{customer_id}/reactivate")
async def reactivate(
    request: Request, customer_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    patch = CustomerPatch(is_active=True)
    return await _patch(request, staff, session, customer_id, patch, "reactivated")


@router.post("/customers/{customer_id}/role")
async def change_role(
    request: Request, customer_id: uuid.UUID, admin: AdminUser, session: SessionDep
) -> Response:
    """Administrators only; nobody can demote the last administrator."""
    form = await read_form(request)
    role = enum_or_none(Role, form.get("role"))
    if role is None:
        problem = ValidationFailedError(
            "Choose a role.", errors=[{"field": "role", "message": "unknown role"}]
        )
        return await _customer_page(request, admin, session, customer_id, problem)
    patch = CustomerPatch(role=role)
    return await _patch(request, admin, session, customer_id, patch, "role")


@router.post("/customers/{customer_id}/reset-2fa")
async def reset_two_factor(
    request: Request, customer_id: uuid.UUID, admin: AdminUser, session: SessionDep
) -> Response:
    """Administrators only: a lost device (POST /api/admin/users/{id}/reset-2fa). Audited."""
    try:
        await two_factor.reset_for(session, admin, customer_id)
    except ElysiumError as exc:
        return await _customer_page(request, admin, session, customer_id, exc)
    return done(f"/admin/customers/{customer_id}", "two-factor-reset")


@router.post("/customers/{customer_id}/export")
async def export(customer_id: uuid.UUID, staff: StaffUser, session: SessionDep) -> Response:
    """The customer's GDPR subject-access export as a JSON download (audited as staff's)."""
    data = await subject_access_export(session, staff, customer_id)
    body = json.dumps(jsonable_encoder(data), indent=2, ensure_ascii=False)
    filename = f"elysium-subject-access-{customer_id}.json"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
