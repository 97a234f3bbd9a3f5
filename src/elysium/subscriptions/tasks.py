"""Jobs of the subscriptions domain: applying stored billing events from the provider."""

from __future__ import annotations

import uuid

from elysium.config import get_settings
from elysium.jobs import RETRY, job_app, job_session
from elysium.payments.billing import billing_gateway
from elysium.payments.service import get_gateway
from elysium.subscriptions import events


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
