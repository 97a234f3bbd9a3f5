"""Provider events for orders: a verified webhook is stored once with a job that applies it,
in one transaction, and the job moves the order (settled, failed, processing, refunded).

Applying is idempotent (the stored event is locked and marked processed in the applying
transaction) and safe out of order, since every use case checks the order's state under its
row lock. A failing job retries with backoff and shows in the failed-jobs list.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.errors import NotFoundError
from elysium.jobs import enqueue
from elysium.orders.history import PROVIDER
from elysium.orders.payment_failed import record_payment_failure, record_payment_processing
from elysium.orders.refund import record_provider_refund
from elysium.orders.settle import settle_payment
from elysium.payments import webhooks
from elysium.payments.gateway import GatewayEvent, GatewayEventType, PaymentGateway
from elysium.subscriptions import events as billing_events

log = structlog.get_logger(__name__)

APPLY_PAYMENT_EVENT = "apply_payment_event"


@dataclass(frozen=True, slots=True)
class WebhookReceipt:
    """`duplicate` when the event had been received before."""

    duplicate: bool


async def receive_payment_webhook(
    session: AsyncSession, gateway: PaymentGateway, payload: bytes, signature: str | None
) -> WebhookReceipt:
    """Verify (400 when the signature is wrong, nothing stored), store once and queue the job
    that applies it; the caller's commit makes both durable before the provider hears 2xx."""
    stored = await webhooks.store_once(session, gateway, payload, signature)
    if stored.row_id is None:
        return WebhookReceipt(duplicate=True)
    if billing_events.is_billing_event(stored.event.type):  # saved cards, care plans
        await enqueue(
            session,
            billing_events.APPLY_BILLING_EVENT,
            queue="payments",
            event_row_id=str(stored.row_id),
            provider=gateway.provider,
        )
        return WebhookReceipt(duplicate=False)
    await enqueue(
        session,
        APPLY_PAYMENT_EVENT,
        queue="payments",
        event_row_id=str(stored.row_id),
        provider=gateway.provider,
        event=webhooks.event_args(stored.event),
    )
    return WebhookReceipt(duplicate=False)


async def apply_payment_event(
    session: AsyncSession,
    settings: Settings,
    event_row_id: uuid.UUID,
    provider: str,
    event: GatewayEvent,
) -> None:
    """Apply one stored event, once (the job's body; the caller commits)."""
    if not await webhooks.claim_unprocessed(session, event_row_id):
        return
    try:
        await _apply(session, settings, provider, event)
    except NotFoundError:
        log.warning("webhook_for_unknown_order", event_id=event.id, type=event.type)
    await webhooks.mark_processed(session, event_row_id)


def _order_id(event: GatewayEvent) -> uuid.UUID | None:
    try:
        return uuid.UUID(event.metadata.get("order_id", ""))
    except ValueError:
        return None


async def _apply(
    session: AsyncSession, settings: Settings, provider: str, event: GatewayEvent
) -> None:
    order_id = _order_id(event)
    if event.type == GatewayEventType.PAYMENT_REFUNDED and event.intent_id:
        total = event.refunded_amount_pence or 0
        await record_provider_refund(session, event.intent_id, total, event.id)
        return
    if order_id is None or event.intent_id is None:
        log.info("webhook_ignored", event_id=event.id, type=event.type)
        return
    if event.type == GatewayEventType.PAYMENT_SUCCEEDED:
        await settle_payment(
            session,
            settings,
            order_id=order_id,
            provider=provider,
            provider_payment_id=event.intent_id,
            amount_pence=event.amount_pence or 0,
            by=PROVIDER,
        )
    elif event.type == GatewayEventType.PAYMENT_FAILED:
        await record_payment_failure(
            session,
            settings,
            order_id=order_id,
            provider_payment_id=event.intent_id,
            reason=event.failure_message,
        )
    elif event.type == GatewayEventType.PAYMENT_PROCESSING:
        await record_payment_processing(
            session, order_id=order_id, provider_payment_id=event.intent_id
        )
