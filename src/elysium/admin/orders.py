"""/admin/orders: search, filter, sort, CSV export, the order page, its actions and packing slip.

Every action calls the same orders service as the API (`change_status`, `cancel_order`,
`refund_order`, `add_note`) with the same role checks and audit, then redirects back to the
order page (303) with a notice; a refusal (409 etc.) is shown on the order page with its status.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from elysium.accounts.deps import AdminUser, StaffUser
from elysium.admin.pages import date_or_none, done, enum_or_none, render, validation_message
from elysium.admin.security import csrf_protect, read_form
from elysium.db import SessionDep
from elysium.errors import ElysiumError, ValidationFailedError
from elysium.kit.deps import SettingsDep
from elysium.kit.money import Money
from elysium.models import User
from elysium.models.order import OrderPaymentStatus, OrderStatus
from elysium.orders import cancel, notes, refund
from elysium.orders import status as order_status
from elysium.orders.read import get_order
from elysium.orders.schemas import CancelRequest, OrderNoteWrite, RefundRequest, StatusChange
from elysium.orders.search import OrderFilters, OrderSort, orders_csv, search_orders
from elysium.orders.staff_view import MOVES, OrderAction, staff_order_view
from elysium.payments.deps import GatewayDep

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])

PAGE_SIZE = 50
Text = Annotated[str | None, Query(max_length=200)]
NOTICES = {
    "mark-paid": "Payment confirmed: the order is paid.",
    "fulfil": "Marked as fulfilled.",
    "ship": "Marked as shipped; the client has been emailed.",
    "deliver": "Marked as delivered.",
    "cancel": "Order cancelled.",
    "refund": "Refund issued.",
    "note": "Note added.",
}
SORTS = {
    OrderSort.NEWEST: "Newest first",
    OrderSort.OLDEST: "Oldest first",
    OrderSort.TOTAL_DESC: "Highest total",
    OrderSort.TOTAL_ASC: "Lowest total",
}


@dataclass(frozen=True)
class ListQuery:
    """What the order list and its CSV export are asked for: the filters and the sort."""

    filters: OrderFilters
    sort: OrderSort


async def list_query(
    q: Text = None,
    status: Text = None,
    payment_status: Text = None,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    sort: Text = None,
) -> ListQuery:
    """The query string of `/admin/orders` (unknown values ignored, as a filter form left blank)."""
    filters = OrderFilters(
        q=(q or "").strip() or None,
        status=enum_or_none(OrderStatus, status),
        payment_status=enum_or_none(OrderPaymentStatus, payment_status),
        date_from=date_or_none(start),
        date_to=date_or_none(end),
    )
    return ListQuery(filters, enum_or_none(OrderSort, sort) or OrderSort.NEWEST)


ListQueryDep = Annotated[ListQuery, Depends(list_query)]


@router.get("/orders")
async def orders(
    request: Request,
    staff: StaffUser,
    session: SessionDep,
    wanted: ListQueryDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    filters, order_by = wanted.filters, wanted.sort
    try:
        page = await search_orders(session, filters, PAGE_SIZE, cursor, order_by)
        error = None
    except ElysiumError as exc:  # a bad cursor or an inverted date range
        page, error = await search_orders(session, OrderFilters(), 0, None), exc.detail
    query = filters.as_query() | ({"sort": order_by.value} if order_by != OrderSort.NEWEST else {})
    return render(
        request,
        "orders.html",
        staff,
        status_code=200 if error is None else 422,
        orders=page.items,
        next_cursor=page.next_cursor,
        filters=filters,
        query=query,
        sort=order_by,
        sorts=SORTS,
        statuses=list(OrderStatus),
        payment_statuses=list(OrderPaymentStatus),
        error=error,
    )


@router.get("/orders/export.csv")
async def orders_export(staff: StaffUser, session: SessionDep, wanted: ListQueryDep) -> Response:
    """The filtered list as CSV (every page of it)."""
    return Response(
        await orders_csv(session, wanted.filters, wanted.sort),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


async def _order_page(
    request: Request,
    staff: User,
    session: SessionDep,
    order_id: uuid.UUID,
    *,
    error: ElysiumError | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    view = await staff_order_view(session, staff, order_id)
    notice = NOTICES.get(request.query_params.get("done", ""))
    code = error.status if error is not None else status_code
    return render(
        request,
        "order.html",
        staff,
        status_code=code,
        error_status=code,
        view=view,
        order=view.order,
        notice=notice,
        error=error.detail if error is not None else message,
    )


@router.get("/orders/{order_id}")
async def order(
    request: Request, order_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    return await _order_page(request, staff, session, order_id)


@router.get("/orders/{order_id}/packing-slip")
async def packing_slip(
    request: Request, order_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    return render(
        request, "packing_slip.html", staff, order=await get_order(session, staff, order_id)
    )


async def _refused(
    request: Request, staff: User, session: SessionDep, order_id: uuid.UUID, exc: Exception
) -> Response:
    """The order page again, with the refusal and its status; nothing of the action is kept."""
    await session.rollback()
    await session.refresh(staff)
    if isinstance(exc, ElysiumError):
        return await _order_page(request, staff, session, order_id, error=exc)
    assert isinstance(exc, ValidationError)
    message = validation_message(exc)
    return await _order_page(request, staff, session, order_id, message=message, status_code=422)


async def _move(
    request: Request,
    staff: User,
    session: SessionDep,
    settings: SettingsDep,
    order_id: uuid.UUID,
    action: OrderAction,
) -> Response:
    form = await read_form(request)
    try:
        change = StatusChange(
            status=MOVES[action],
            note=form.get("note") or None,
            carrier=form.get("carrier") or None,
            tracking_number=form.get("tracking_number") or None,
        )
        await order_status.change_status(session, settings, staff, order_id, change)
    except (ElysiumError, ValidationError) as exc:
        return await _refused(request, staff, session, order_id, exc)
    return done(f"/admin/orders/{order_id}", action.value)


@router.post("/orders/{order_id}/mark-paid")
async def mark_paid(
    request: Request,
    order_id: uuid.UUID,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Confirm a bank transfer (or money taken another way): PUT /status {PAID}."""
    return await _move(request, staff, session, settings, order_id, OrderAction.MARK_PAID)


@router.post("/orders/{order_id}/fulfil")
async def fulfil(
    request: Request,
    order_id: uuid.UUID,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    return await _move(request, staff, session, settings, order_id, OrderAction.FULFIL)


@router.post("/orders/{order_id}/ship")
async def ship(
    request: Request,
    order_id: uuid.UUID,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Shipped with `carrier` and `tracking_number`; the client is emailed."""
    return await _move(request, staff, session, settings, order_id, OrderAction.SHIP)


@router.post("/orders/{order_id}/deliver")
async def deliver(
    request: Request,
    order_id: uuid.UUID,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    return await _move(request, staff, session, settings, order_id, OrderAction.DELIVER)


@router.post("/orders/{order_id}/cancel")
async def cancel_order(
    request: Request,
    order_id: uuid.UUID,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """First post: the confirmation step; with `confirm`: POST /api/orders/{id}/cancel."""
    form = await read_form(request)
    reason = (form.get("reason") or "").strip() or None
    if form.get("confirm") != "yes":
        order = await get_order(session, staff, order_id)
        return render(request, "confirm_cancel.html", staff, order=order, reason=reason or "")
    try:
        body = CancelRequest(reason=reason)
        await cancel.cancel_order(session, settings, staff, order_id, body.reason)
    except (ElysiumError, ValidationError) as exc:
        return await _refused(request, staff, session, order_id, exc)
    return done(f"/admin/orders/{order_id}", OrderAction.CANCEL.value)


def _refund_request(amount: str, reason: str) -> RefundRequest:
    """The refund as the API takes it (`£1,200` or `1200.00`); blank refunds all that is left."""
    text = amount.strip().replace(",", "").removeprefix("£")
    money = None
    if text:
        try:
            value = Decimal(text).quantize(Decimal("0.01"))
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise ValidationFailedError(
                "The amount is not a number of pounds.",
                errors=[{"field": "amount", "message": "not an amount"}],
            )
        money = Money(amount=str(value))
    return RefundRequest(amount=money, reason=reason)


@router.post("/orders/{order_id}/refund")
async def refund_order(
    request: Request,
    order_id: uuid.UUID,
    admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    gateway: GatewayDep,
) -> Response:
    """Administrators only. First post: the confirmation step (which fixes an idempotency key,
    so a double submit refunds once); with `confirm`: POST /api/orders/{id}/refund."""
    form = await read_form(request)
    amount, reason = form.get("amount", ""), form.get("reason", "")
    try:
        body = _refund_request(amount, reason)
    except (ElysiumError, ValidationError) as exc:
        return await _refused(request, admin, session, order_id, exc)
    key = form.get("idempotency_key", "")
    if form.get("confirm") != "yes" or not (8 <= len(key) <= 100):
        order = await get_order(session, admin, order_id)
        return render(
            request,
            "confirm_refund.html",
            admin,
            order=order,
            amount=body.amount,
            reason=body.reason,
            key=f"admin-refund-{uuid.uuid4()}",
        )
    try:
        await refund.refund_order(session, settings, gateway, admin, order_id, body, key)
    except ElysiumError as exc:
        return await _refused(request, admin, session, order_id, exc)
    return done(f"/admin/orders/{order_id}", OrderAction.REFUND.value)


@router.post("/orders/{order_id}/notes")
async def add_note(
    request: Request, order_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    """An internal note on the order (audited); shown newest first."""
    form = await read_form(request)
    try:
        await notes.add_note(session, staff, order_id, OrderNoteWrite(body=form.get("body", "")))
    except (ElysiumError, ValidationError) as exc:
        return await _refused(request, staff, session, order_id, exc)
    return done(f"/admin/orders/{order_id}", "note")
