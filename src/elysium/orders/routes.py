"""Orders and payment webhooks (contract: "Checkout, orders, payments"). Each route makes one
call to the orders domain and holds no commit of its own."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response, status

from elysium.accounts.deps import AdminUser, CurrentUser, OptionalUser, StaffUser
from elysium.bespoke.schemas import QuoteAccept
from elysium.db import SessionDep
from elysium.idempotency import IdempotencyKeyHeader
from elysium.kit.deps import SettingsDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page
from elysium.orders import (
    bespoke_order,
    cancel,
    credit_notes,
    instalments,
    invoice,
    pay,
    payment_events,
    read,
    refund,
    returns,
)
from elysium.orders import status as order_status
from elysium.orders.schemas import (
    CancelRequest,
    InstalmentCreate,
    OrderRead,
    OrderSummary,
    RefundRead,
    RefundRequest,
    ReturnCreate,
    ReturnRead,
    ReturnUpdate,
    StatusChange,
)
from elysium.payments.deps import GatewayDep
from elysium.payments.schemas import PaymentRead

router = APIRouter(tags=["checkout and orders"])


@router.get("/api/orders")
async def list_orders(
    user: CurrentUser, session: SessionDep, limit: LimitQuery = 20, cursor: CursorQuery = None
) -> Page[OrderSummary]:
    """Your own orders, newest first."""
    return await read.list_orders(session, user, limit, cursor)


@router.get("/api/orders/{order_id}")
async def get_order(order_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> OrderRead:
    """One order with its lines, totals (VAT included), addresses and status history.

    Visible to its owner and to staff; another customer's order is 404.
    """
    return await read.get_order(session, user, order_id)


PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "A PDF document"}
}


@router.get("/api/orders/{order_id}/invoice", response_class=Response, responses=PDF_RESPONSE)
async def get_invoice(
    order_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """The order's VAT invoice as `application/pdf` (owner or staff): seller and VAT number,
    invoice number, date and tax point, customer and addresses, each line's net, VAT rate,
    VAT and gross, the totals, and "Zero-rated export" where it applies. 404 before payment.
    """
    content = await invoice.invoice_pdf(session, settings, user, order_id)
    return Response(content, media_type=invoice.PDF)


@router.get(
    "/api/orders/{order_id}/credit-notes/{number}",
    response_class=Response,
    responses=PDF_RESPONSE,
)
async def get_credit_note(
    order_id: uuid.UUID,
    number: Annotated[str, Path(max_length=20, pattern=r"^CRN-\d{4}-\d{6}$")],
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One of the order's VAT credit notes (one per refund, referring to the invoice) as
    `application/pdf` (owner or staff); 404 for a number the order does not have."""
    content = await credit_notes.credit_note_pdf(session, settings, user, order_id, number)
    return Response(content, media_type=invoice.PDF)


@router.post("/api/orders/{order_id}/pay")
async def retry_payment(
    order_id: uuid.UUID, user: CurrentUser, session: SessionDep, gateway: GatewayDep
) -> PaymentRead:
    """Start (or resume) paying an unpaid order, e.g. after a failed card or a provider outage.

    409 once the order is paid or closed.
    """
    return await pay.retry_payment(session, gateway, user, order_id)


@router.post("/api/orders/{order_id}/cancel")
async def cancel_order(
    order_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    body: CancelRequest | None = None,
) -> OrderRead:
    """Cancel an order before fulfilment (owner or staff): stock released, coupon given back,
    refunded in full when it was paid (the refund is paid out in the background, so
    `payment_status` turns `refunded` moments later). 409 once fulfilled, shipped or closed."""
    reason = body.reason if body else None
    return await cancel.cancel_order(session, settings, user, order_id, reason)


@router.put("/api/orders/{order_id}/status")
async def change_status(
    order_id: uuid.UUID,
    body: StatusChange,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> OrderRead:
    """Move an order along the state machine (staff; audited); 409 for a forbidden change.

    `PAID` confirms a bank transfer (the reservation becomes a sale); `SHIPPED` may carry
    `carrier` and `tracking_number` and emails the customer; `CANCELLED` cancels as the
    cancel endpoint does. Refunds go through `POST /api/orders/{id}/refund`.
    """
    return await order_status.change_status(session, settings, staff, order_id, body)


@router.post("/api/orders/{order_id}/refund", status_code=status.HTTP_201_CREATED)
async def refund_order(
    order_id: uuid.UUID,
    body: RefundRequest,
    idempotency_key: IdempotencyKeyHeader,
    admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    gateway: GatewayDep,
) -> RefundRead:
    """Refund all (no `amount`) or part of a paid order (admin; audited).

    Requires `Idempotency-Key`: a repeat returns the same refund. 409 for more than is left
    to refund or an unpaid order. Fully refunded orders become REFUNDED (unless cancelled).
    """
    return await refund.refund_order(
        session, settings, gateway, admin, order_id, body, idempotency_key
    )


@router.post("/api/webhooks/stripe", tags=["payments"])
async def stripe_webhook(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    stripe_signature: str | None = Header(default=None, alias="Stripe-Signature"),
) -> dict[str, bool]:
    """Stripe events, verified with the `Stripe-Signature` header (400 when it is wrong).

    Each event is stored once and applied once, by a background job queued with it: a repeat
    answers 200 and changes nothing. A payment that succeeds for an order that was cancelled
    or expired is refunded automatically. Saved-card and care plan events (`setup_intent.*`,
    `payment_method.*`, `customer.subscription.*`, `invoice.*`) are applied by the care plan
    domain's own job.
    """
    receipt = await payment_events.receive_payment_webhook(
        session, gateway, await request.body(), stripe_signature
    )
    return {"received": True, "duplicate": receipt.duplicate}


@router.post(
    "/api/orders/{order_id}/returns", status_code=status.HTTP_201_CREATED, tags=["returns"]
)
async def request_return(
    order_id: uuid.UUID,
    body: ReturnCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ReturnRead:
    """Ask to return delivered lines (`order_item_id` is a line's `id` on the order) within 14
    days of delivery. 409 when the order is not delivered or the window has passed; 422
    naming the line (`lines.<n>.order_item_id`) when it is personalised (engraved or made to
    order, which the law exempts), not on the order, or already returned."""
    return await returns.request_return(session, settings, user, order_id, body)


@router.get("/api/orders/{order_id}/returns", tags=["returns"])
async def list_returns(
    order_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[ReturnRead]:
    """The order's returns, oldest first (owner or staff)."""
    return await returns.list_returns(session, user, order_id)


@router.put("/api/returns/{return_id}", tags=["returns"])
async def update_return(
    return_id: uuid.UUID,
    body: ReturnUpdate,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ReturnRead:
    """Move a return (staff; audited; the customer is emailed): `requested -> authorised ->
    received -> refunded`, or `rejected` with a `note`. On `received` the units go back to
    stock (ledger reason `return`) unless `restock` is false. `refunded` refunds the lines'
    price less their share of any discount (everything left, shipping too, once every unit
    has come back) through the refund path; the order becomes REFUNDED when all it was paid
    has been refunded. 409 for a move the workflow does not allow."""
    return await returns.update_return(session, settings, staff, return_id, body)


@router.post("/api/orders/{order_id}/payments", status_code=status.HTTP_201_CREATED)
async def record_instalment(
    order_id: uuid.UUID,
    body: InstalmentCreate,
    staff: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> OrderRead:
    """Record a bank transfer received for what the order has due (staff; audited): the
    total, or the next instalment of a bespoke commission (the deposit, then the balance).
    `payment_status` goes `unpaid -> deposit_paid -> paid`. 422 when `amount` is not the
    instalment due, 409 when nothing is due; the same `reference` again changes nothing."""
    return await instalments.record_instalment(session, settings, staff, order_id, body)


@router.post(
    "/api/bespoke/quotes/{quote_id}/accept",
    status_code=status.HTTP_201_CREATED,
    tags=["bespoke"],
)
async def accept_quote(
    quote_id: uuid.UUID,
    user: OptionalUser,
    session: SessionDep,
    settings: SettingsDep,
    body: QuoteAccept | None = None,
) -> OrderRead:
    """Accept a bespoke quote, signed in as the enquiry's email or with the `token` from the
    emailed link: a made-to-order order at the quoted price, with the deposit due now
    (`POST /api/orders/{id}/pay`, or a bank transfer) and the balance before shipping
    (`payments_due`). 404 without a valid token or the right account; 409 when the quote was
    superseded, has expired or was accepted already, or the client has no account yet."""
    token = body.token if body else None
    return await bespoke_order.accept_quote(session, settings, user, quote_id, token)
