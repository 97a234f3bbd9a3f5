"""Coupons: list, create and deactivate through the promotions service (audited)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from elysium.accounts.deps import StaffUser
from elysium.admin.pages import back_to, form_fields, parse, render
from elysium.admin.security import csrf_protect
from elysium.db import SessionDep
from elysium.errors import ValidationFailedError
from elysium.kit.clock import SHOP_TZ
from elysium.kit.pagination import CursorQuery
from elysium.promotions import service
from elysium.promotions.schemas import CouponCreate

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])
PAGE_SIZE = 50


def _bad(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        f"Please correct the form ({field}: {message}).",
        errors=[{"field": field, "message": message}],
    )


def _money(form: dict[str, str], field: str) -> dict[str, str] | None:
    """Pounds as typed (`50`, `1,250.5`) → a money object; None when blank."""
    raw = form.get(field, "").replace(",", "").lstrip("£")
    if not raw:
        return None
    try:
        amount = Decimal(raw).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise _bad(field, "not an amount in pounds") from exc
    return {"amount": str(amount), "currency": "GBP"}


def _london_time(form: dict[str, str], field: str) -> str | None:
    """A `datetime-local` value, read as London time."""
    raw = form.get(field)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=SHOP_TZ).isoformat()
    except ValueError as exc:
        raise _bad(field, "not a date and time") from exc


def coupon_from_form(form: dict[str, str]) -> CouponCreate:
    """The API's coupon body from the form's fields (blank fields are left out)."""
    slugs = [s.strip() for s in form.get("collection_slugs", "").split(",") if s.strip()]
    values: dict[str, Any] = {
        "code": form.get("code"),
        "description": form.get("description"),
        "kind": form.get("kind"),
        "amount": _money(form, "amount"),
        "percent": form.get("percent"),
        "min_subtotal": _money(form, "min_subtotal"),
        "starts_at": _london_time(form, "starts_at"),
        "ends_at": _london_time(form, "ends_at"),
        "max_redemptions": form.get("max_redemptions"),
        "max_per_customer": form.get("max_per_customer"),
        "collection_slugs": slugs or None,
    }
    return parse(CouponCreate, {k: v for k, v in values.items() if v is not None})


@router.get("/coupons")
async def coupons(
    request: Request, staff: StaffUser, session: SessionDep, cursor: CursorQuery = None
) -> Response:
    items, next_cursor = await service.list_coupons(session, PAGE_SIZE, cursor)
    return render(request, "coupons.html", staff, coupons=items, next_cursor=next_cursor)


@router.post("/coupons")
async def create_coupon(request: Request, staff: StaffUser, session: SessionDep) -> Response:
    await service.create_coupon(session, staff, coupon_from_form(await form_fields(request)))
    return back_to("/admin/coupons")


@router.post("/coupons/{coupon_id}/deactivate")
async def deactivate_coupon(
    coupon_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    await service.deactivate_coupon(session, staff, coupon_id)
    return back_to("/admin/coupons")
