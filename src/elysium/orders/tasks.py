"""Jobs of the orders domain: applying provider events, paying out refunds, and closing
unpaid orders whose reservation has run out. Each job body is a boundary: it reads the
settings, opens its own transaction and commits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog

from elysium.config import get_settings
from elysium.inventory import reservations
from elysium.jobs import RETRY, PermanentJobError, job_app, job_session
from elysium.models.inventory import ReservationOwner
from elysium.notifications.emails import attachment_builder
from elysium.orders import cancel, invoice, payment_events, refund
from elysium.orders.history import SYSTEM
from elysium.payments import webhooks
from elysium.payments.gateway import PaymentGateway
from elysium.payments.refunds import RefundFailedError
from elysium.payments.service import get_gateway

log = structlog.get_logger(__name__)


@asynccontextmanager
async def _gateway() -> AsyncIterator[PaymentGateway]:
    gateway = get_gateway(get_settings())
    try:
        yield gateway
    finally:
        await gateway.aclose()


attachment_builder(invoice.INVOICE_ATTACHMENT)(invoice.invoice_attachment)


@job_app.task(name=payment_events.APPLY_PAYMENT_EVENT, queue="payments", retry=RETRY)
async def apply_payment_event(event_row_id: str, provider: str, event: dict[str, Any]) -> None:
    """Apply one stored provider event to its order (once)."""
    async with job_session() as session:
        await payment_events.apply_payment_event(
            session,
            get_settings(),
            uuid.UUID(event_row_id),
            provider,
            webhooks.event_from_args(event),
        )


@job_app.task(name=refund.PAY_OUT_REFUND, queue="payments", retry=RETRY)
async def pay_out_refund(refund_id: str) -> None:
    """Pay out one refund at the provider; a refusal is recorded and the job fails for good
    (visible to staff), an outage is retried with backoff."""
    refused: RefundFailedError | None = None
    async with _gateway() as gateway, job_session() as session:
        try:
            await refund.complete_refund(
                session, get_settings(), gateway, uuid.UUID(refund_id), by=SYSTEM
            )
        except RefundFailedError as exc:
            refused = exc  # the `failed` refund is committed with the block
    if refused is not None:
        raise PermanentJobError(f"refund {refund_id}: {refused.detail}")


@job_app.periodic(cron="*/5 * * * *")
@job_app.task(name="retry_requested_refunds", queue="maintenance", queueing_lock="refunds")
async def retry_stuck_refunds(timestamp: int) -> None:
    """The safety net: pay out refunds still `requested` long after their job should have."""
    async with _gateway() as gateway, job_session() as session:
        done = await refund.retry_requested_refunds(session, get_settings(), gateway)
    log.info("orders.requested_refunds_retried", count=done)


@job_app.periodic(cron="* * * * *")
@job_app.task(name="expire_holds", queue="maintenance", queueing_lock="expire_holds")
async def expire_holds(timestamp: int) -> None:
    """The one owner of lapsed reservations: close unpaid orders past their deadline (stock
    released, order cancelled with its history entry and email, together), then delete the
    remaining expired reservations and close any unpaid order among their owners."""
    settings = get_settings()
    while True:
        async with job_session() as session:
            closed = await cancel.expire_unpaid_orders(session, settings)
        if closed < cancel.EXPIRY_BATCH:
            break
    async with job_session() as session:
        owners = await reservations.expire_reservations(session)
    orders = [owner_id for kind, owner_id in owners if kind == ReservationOwner.ORDER]
    if orders:
        async with job_session() as session:
            late = await cancel.close_orders_of_lapsed_holds(session, settings, orders)
        log.info("orders.lapsed_holds_closed", count=late)
