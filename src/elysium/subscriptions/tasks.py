"""Jobs of the subscriptions domain: applying stored billing events from the provider."""

from __future__ import annotations

import uuid

from elysium.config import get_settings
from elysium.jobs import RETRY, job_app, job_session
from elysium.payments.billing import billing_gateway
from elysium.payments.service import get_gateway
from elysium.subscriptions import events, service


@job_app.task(name=events.APPLY_BILLING_EVENT, queue="payments", retry=RETRY)
async def apply_billing_event(event_row_id: str, provider: str) -> None:
    """Apply one stored billing event (saved card, subscription, invoice), once."""
    settings = get_settings()
    gateway = get_gateway(settings)
    try:
        async with job_session() as session:
            await events.apply_billing_event(
                session, settings, billing_gateway(gateway), provider, uuid.UUID(event_row_id)
            )
    finally:
        await gateway.aclose()


@job_app.task(name=service.END_SUBSCRIPTION, queue="payments", retry=RETRY)
async def end_subscription(subscription_id: str) -> None:
    """End one subscription at once at the provider (its client was erased)."""
    gateway = get_gateway(get_settings())
    try:
        async with job_session() as session:
            await service.end_subscription(
                session, billing_gateway(gateway), uuid.UUID(subscription_id)
            )
    finally:
        await gateway.aclose()
