"""Periodic jobs of checkout: reminders of forgotten carts."""

from __future__ import annotations

import logging

from elysium.checkout.reminders import send_cart_reminders
from elysium.config import get_settings
from elysium.jobs import job_app, job_session

log = logging.getLogger(__name__)


@job_app.periodic(cron="*/15 * * * *")
@job_app.task(name="cart_reminders", queue="maintenance", queueing_lock="cart_reminders")
async def cart_reminders(timestamp: int) -> int:
    """One reminder per unchanged cart state to clients who accept marketing email."""
    async with job_session() as session:
        sent = await send_cart_reminders(session, get_settings())
    log.info("sent %d cart reminders", sent)
    return sent
