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
    """One reminder per unchanged cart state to clients who accept marketing email; every
    forgotten cart, one short transaction per batch."""
    total, after, settings = 0, None, get_settings()
    while True:
        async with job_session() as session:
            sent, after = await send_cart_reminders(session, settings, after)
        total += sent
        if after is None:
            break
    log.info("sent %d cart reminders", total)
    return total
