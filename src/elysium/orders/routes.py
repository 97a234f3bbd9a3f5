"""Orders (contract: "Checkout, orders, payments")."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from elysium.accounts.deps import AdminUser, CurrentUser, StaffUser
from elysium.checkout.idempotency import IdempotencyKeyHeader
from elysium.db import SessionDep
from elysium.errors import ConflictError
from elysium.kit.pagination import CursorQuery, LimitQuery, Page
from elysium.orders import service
from elysium.orders.history import actor_label
from elysium.orders.schemas import (
    CancelRequest,
    OrderRead,
    OrderSummary,
    PaymentRead,
    RefundRead,
    RefundRequest,
    StatusChange,
)
from elysium.orders.state import UNPAID
from elysium.payments.deps import GatewayDep
from elysium.payments.refunds import complete_refund, pay_out_quietly, refund_read, request_refund
from elysium.payments.service import start_payment

router = APIRouter(tags=["checkout and orders"])


@router.get("/api/orders")
async def list_orders(
    user: CurrentUser, session: SessionDep, limit: LimitQuery = 20, cursor: CursorQuery = None
) -> Page[OrderSummary]:
    """Your own orders, newest first."""
    return await service.list_orders(session, user, limit, cursor)


@router.get("/api/orders/{order_id}")
async def get_order(order_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> OrderRead:
    """One order with its lines, totals (VAT included), addresses and status history.

    Visible to its owner and to staff; another customer's order is 404.
    """
    return await service.get_order(session, user, order_id)


@router.post("/api/orders/{order_id}/pay")
async def retry_payment(
    order_id: uuid.UUID, user: CurrentUser, session: SessionDep, gateway: GatewayDep
) -> PaymentRead:
    """Start (or resume) paying an unpaid order, e.g. after a failed card or a provider outage.

    409 once the order is paid or closed.
    """
    order = await service.visible_order(session, user, order_id)
    if order.status not in UNPAID:
        raise ConflictError(f"This order is {order.status}; there is nothing to pay.")
    return await start_payment(session, gateway, order, user.email)


@router.post("/api/orders/{order_id}/cancel")
async def cancel_order(
    order_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    gateway: GatewayDep,
    body: CancelRequest | None = None,
) -> OrderRead:
    """Cancel an order before fulfilment (owner or staff): stock released, coupon given back,
    refunded in full when it was paid. 409 once fulfilled, shipped or closed."""
    change = await service.cancel_order(session, user, order_id, body.reason if body else None)
    await session.commit()  # the cancellation stands before any money moves
    await pay_out_quietly(session, gateway, change.refund_id, by=actor_label(user))
    return await service.read_order(session, change.order)


@router.put("/api/orders/{order_id}/status")
async def change_status(
    order_id: uuid.UUID,
    body: StatusChange,
    staff: StaffUser,
    session: SessionDep,
    gateway: GatewayDep,
) -> OrderRead:
    """Move an order along the state machine (staff; audited); 409 for a forbidden change.

    `PAID` confirms a bank transfer (the reservation becomes a sale); `SHIPPED` may carry
    `carrier` and `tracking_number` and emails the customer; `CANCELLED` cancels as the
    cancel endpoint does. Refunds go through `POST /api/orders/{id}/refund`.
    """
    change = await service.change_status(session, staff, order_id, body)
    await session.commit()
    await pay_out_quietly(session, gateway, change.refund_id, by=actor_label(staff))
    return await service.read_order(session, change.order)


@router.post("/api/orders/{order_id}/refund", status_code=status.HTTP_201_CREATED)
async def refund_order(
    order_id: uuid.UUID,
    body: RefundRequest,
    idempotency_key: IdempotencyKeyHeader,
    admin: AdminUser,
    session: SessionDep,
    gateway: GatewayDep,
) -> RefundRead:
    """Refund all (no `amount`) or part of a paid order (admin; audited).

    Requires `Idempotency-Key`: a repeat returns the same refund. 409 for more than is left
    to refund or an unpaid order. Fully refunded orders become REFUNDED (unless cancelled).
    """
    amount = body.amount.to_pence() if body.amount else None
    refund_id = await request_refund(session, admin, order_id, amount, body.reason, idempotency_key)
    await session.commit()  # the amount is set aside before the provider is asked
    refund = await complete_refund(session, gateway, refund_id, by=actor_label(admin))
    return await refund_read(session, refund)
