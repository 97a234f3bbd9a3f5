"""Jobs of the notifications domain: email delivery and analytics events."""

from __future__ import annotations

import uuid

from elysium.jobs import RETRY, job_app
from elysium.notifications import analytics, emails


@job_app.task(name=emails.DELIVER_EMAIL, queue="email", retry=RETRY)
async def deliver_email(email_id: str) -> None:
    """Send one queued email."""
    await emails.deliver_email(uuid.UUID(email_id))


@job_app.task(name=analytics.SEND_PURCHASE_EVENT, queue="analytics", retry=RETRY)
async def send_purchase_event(order_id: str, revenue_pence: int, currency: str) -> None:
    """Report one purchase to Plausible."""
    await analytics.send_purchase_event(order_id, revenue_pence, currency)
