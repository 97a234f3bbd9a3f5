"""Billing events from the provider (saved cards, subscriptions, their invoices), applied
once by the `apply_billing_event` job queued with the stored webhook.

What the provider must be asked (a card's details, a subscription's current state after an
invoice) is asked first, before the event row is claimed: no lock is held during the call.
Then, in one transaction: the event row is locked (a second run stops there), the change is
applied under the subscription's row lock, the emails are queued, the event is marked done.
Subscription snapshots older than the one the row holds are ignored (out-of-order delivery).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.models import CarePlan, Subscription, User
from elysium.notifications.emails import send_email
from elysium.payments import webhooks
from elysium.payments.billing import (
    BillingEvent,
    BillingEventType,
    BillingGateway,
    CardDetails,
    InvoiceDetails,
    ProviderSubscription,
)
from elysium.subscriptions import wallet
from elysium.subscriptions.service import ACTIVE_PLAN_STATUSES, apply_snapshot

log = structlog.get_logger(__name__)

APPLY_BILLING_EVENT = "apply_billing_event"


@dataclass(frozen=True, slots=True)
class Fetched:
    """What the provider said about the event's subject, asked before any lock."""

    card: CardDetails | None = None
    subscription: ProviderSubscription | None = None
    at: int = 0


async def _fetch(gateway: BillingGateway, event: BillingEvent) -> Fetched:
    if event.type == BillingEventType.CARD_SETUP_SUCCEEDED and event.setup_payment_method_id:
        return Fetched(card=await gateway.retrieve_card(event.setup_payment_method_id))
    if event.invoice is not None and event.invoice.subscription_id is not None:
        current = await gateway.retrieve_subscription(event.invoice.subscription_id)
        return Fetched(subscription=current, at=int(time.time()))
    return Fetched()


async def apply_billing_event(
    session: AsyncSession,
    settings: Settings,
    gateway: BillingGateway,
    provider: str,
    event_row_id: uuid.UUID,
) -> None:
    """Apply one stored billing event, once (the job's body; the caller commits)."""
    raw = await webhooks.stored_payload(session, event_row_id)
    event = None if raw is None else gateway.billing_event(raw)
    fetched = Fetched() if event is None else await _fetch(gateway, event)
    if not await webhooks.claim_unprocessed(session, event_row_id):
        return
    if event is not None:
        await _apply(session, settings, provider, event, fetched)
    await webhooks.mark_processed(session, event_row_id)


async def _apply(
    session: AsyncSession,
    settings: Settings,
    provider: str,
    event: BillingEvent,
    fetched: Fetched,
) -> None:
    card = fetched.card or event.card
    if event.type == BillingEventType.CARD_DETACHED and card is not None:
        await wallet.forget_card(session, card.payment_method_id)
    elif card is not None:
        if not await wallet.record_card(session, provider, card):
            log.info("billing_card_for_unknown_customer", event_id=event.id)
    elif event.subscription is not None:
        row = await _locked_subscription(session, event.subscription)
        if row is not None:
            apply_snapshot(row, event.subscription, event.created)
    elif event.invoice is not None and fetched.subscription is not None:
        row = await _locked_subscription(session, fetched.subscription)
        if row is not None:
            apply_snapshot(row, fetched.subscription, fetched.at, fresh=True)
            await _invoice(session, settings, row, event, event.invoice)


async def _locked_subscription(
    session: AsyncSession, snapshot: ProviderSubscription
) -> Subscription | None:
    """Ours by the provider's id, or by our id in its metadata (an event that overtook the
    answer to the subscribe call); locked for the event's transaction."""
    ours = snapshot.metadata.get("subscription_id", "")
    try:
        own_id = uuid.UUID(ours)
    except ValueError:
        own_id = None
    row = await session.scalar(
        select(Subscription)
        .where(
            or_(
                Subscription.provider_subscription_id == snapshot.subscription_id,
                Subscription.id == own_id,
            )
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        log.info("billing_event_for_unknown_subscription", subscription=snapshot.subscription_id)
    return row


async def _invoice(
    session: AsyncSession,
    settings: Settings,
    row: Subscription,
    event: BillingEvent,
    invoice: InvoiceDetails,
) -> None:
    """A paid invoice (`invoice.paid` and `invoice.payment_succeeded` both come: the first one
    counts), a failed one, or a renewal ahead: remembered on the row where it changes it, and
    the client told once per invoice (per period, for a renewal ahead)."""
    if event.type == BillingEventType.INVOICE_UPCOMING:
        if row.status not in ACTIVE_PLAN_STATUSES or row.cancel_at_period_end:
            return  # nothing will renew
        period = int(row.current_period_end.timestamp()) if row.current_period_end else 0
        key = f"care-plan-renewal-reminder:{row.id}:{period}"
        await _email(session, settings, row, invoice, "care_plan_renewal_reminder", key)
        return
    if event.type == BillingEventType.INVOICE_PAID:
        if row.last_paid_invoice_id == invoice.invoice_id:
            return
        first = row.last_paid_invoice_id is None
        row.last_paid_invoice_id = invoice.invoice_id
        template = "care_plan_started" if first else "care_plan_renewed"
    else:
        if row.last_failed_invoice_id == invoice.invoice_id:
            return
        row.last_failed_invoice_id = invoice.invoice_id
        template = "care_plan_payment_failed"
    key = f"{template.replace('_', '-')}:{invoice.invoice_id}"
    await _email(session, settings, row, invoice, template, key)


async def _email(
    session: AsyncSession,
    settings: Settings,
    row: Subscription,
    invoice: InvoiceDetails,
    template: str,
    idempotency_key: str,
) -> None:
    user = await session.get(User, row.user_id)
    plan = await session.get(CarePlan, row.plan_id)
    if user is None or plan is None or user.deleted_at is not None:
        return
    base = settings.public_base_url.rstrip("/")
    context = {
        "customer_name": user.name or "Client",
        "plan_name": plan.name,
        "amount": invoice.amount_pence,
        "currency": invoice.currency,
        "next_renewal": row.current_period_end,
        "subscriptions_url": f"{base}/account/care-plans",
        "update_card_url": f"{base}/account/payment-methods",
    }
    await send_email(
        session,
        to=user.email,
        template=template,
        context=context,
        idempotency_key=idempotency_key,
    )


def is_billing_event(event_type: str) -> bool:
    """Whether a stored webhook is for this domain (and not an order's payment)."""
    return event_type in set(BillingEventType)
