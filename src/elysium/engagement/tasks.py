"""Periodic jobs of the wishlist: alerts when a wished-for piece is back or costs less."""

from __future__ import annotations

import logging

from elysium.config import get_settings
from elysium.engagement.alerts import send_wishlist_alerts
from elysium.jobs import job_app, job_session

log = logging.getLogger(__name__)


@job_app.periodic(cron="*/5 * * * *")
@job_app.task(name="wishlist_alerts", queue="maintenance", queueing_lock="wishlist_alerts")
async def wishlist_alerts(timestamp: int) -> int:
    """Tell clients (once per change) that a wished-for piece is back in stock or cheaper;
    every wishlist entry, one short transaction per batch."""
    total, after, settings = 0, None, get_settings()
    while True:
        async with job_session() as session:
            sent, after = await send_wishlist_alerts(session, settings, after)
        total += sent
        if after is None:
            break
    log.info("sent %d wishlist alerts", total)
    return total
