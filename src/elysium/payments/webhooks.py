"""Provider webhooks: verified, stored once (`ON CONFLICT DO NOTHING`), then applied.

A duplicate delivery finds the event already stored and does nothing; concurrent duplicates
wait on the unique index until the first delivery's transaction ends. Events arriving out of
order are safe because every handler checks the order's current state under its row lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.errors import NotFoundError
from elysium.kit.clock import utcnow
from elysium.models import PaymentEvent
from elysium.orders.history import PROVIDER
from elysium.payments.gateway import GatewayEvent, GatewayEventType, PaymentGateway
from elysium.payments.refunds import record_provider_refund
from elysium.payments.service import finalize_payment, provider_of, record_payment_failure

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    """`duplicate` when the event was seen before; `refund_id` to pay out after commit."""

    duplicate: bool = False
    refund_id: uuid.UUID | None = None


async def _store_once(session: AsyncSession, source: str, event: GatewayEvent) -> uuid.UUID | None:
    statement = (
        insert(PaymentEvent)
        .values(
            id=uuid.uuid4(), source=source, external_id=event.id, type=event.type, payload=event.raw
        )
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(PaymentEvent.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


def _order_id(event: GatewayEvent) -> uuid.UUID | None:
    try:
        return uuid.UUID(event.metadata.get("order_id", ""))
    except ValueError:
        return None


def _failure_reason(event: GatewayEvent) -> str | None:
    obj = (event.raw.get("data") or {}).get("object") or {}
    error = obj.get("last_payment_error") or {}
    message = error.get("message")
    return str(message) if message else None


async def _apply(session: AsyncSession, provider: str, event: GatewayEvent) -> uuid.UUID | None:
    """Apply one verified event; returns a refund to pay out after commit, if any."""
    order_id = _order_id(event)
    if event.type == GatewayEventType.PAYMENT_REFUNDED and event.intent_id:
        total = event.refunded_amount_pence or 0
        await record_provider_refund(session, event.intent_id, total, event.id)
        return None
    if order_id is None or event.intent_id is None:
        log.info("webhook_ignored", event_id=event.id, type=event.type)
        return None
    if event.type == GatewayEventType.PAYMENT_SUCCEEDED:
        settled = await finalize_payment(
            session,
            order_id=order_id,
            provider=provider,
            provider_payment_id=event.intent_id,
            amount_pence=event.amount_pence or 0,
            by=PROVIDER,
        )
        return settled.refund_id
    if event.type == GatewayEventType.PAYMENT_FAILED:
        await record_payment_failure(
            session,
            order_id=order_id,
            provider_payment_id=event.intent_id,
            reason=_failure_reason(event),
        )
    return None


async def receive_webhook(
    session: AsyncSession, gateway: PaymentGateway, payload: bytes, signature: str | None
) -> WebhookOutcome:
    """Verify (400 when the signature is wrong), store once and apply a provider webhook."""
    event = gateway.parse_webhook(payload, signature)
    provider = provider_of(gateway)
    event_row_id = await _store_once(session, provider, event)
    if event_row_id is None:
        return WebhookOutcome(duplicate=True)
    try:
        refund_id = await _apply(session, provider, event)
    except NotFoundError:
        log.warning("webhook_for_unknown_order", event_id=event.id, type=event.type)
        refund_id = None
    await session.execute(
        update(PaymentEvent).where(PaymentEvent.id == event_row_id).values(processed_at=utcnow())
    )
    return WebhookOutcome(refund_id=refund_id)
