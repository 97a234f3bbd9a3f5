"""Periodic money housekeeping (add this module to `jobs.TASK_MODULES`).

Unpaid-order expiry itself is run by `background.tasks.expire_holds`, which calls
`orders.service.expire_unpaid_orders`.
"""

from __future__ import annotations

import logging

from elysium.config import get_settings
from elysium.db import create_sessionmaker
from elysium.jobs import job_app, job_engine
from elysium.payments.refunds import retry_requested_refunds
from elysium.payments.service import get_gateway

log = logging.getLogger(__name__)


@job_app.periodic(cron="*/5 * * * *")
@job_app.task(name="retry_requested_refunds", queue="maintenance", queueing_lock="refunds")
async def retry_stuck_refunds(timestamp: int) -> None:
    """Pay out refunds left `requested` by a crash or a provider outage."""
    gateway = get_gateway(get_settings())
    try:
        async with create_sessionmaker(job_engine())() as session:
            done = await retry_requested_refunds(session, gateway)  # commits per refund
    finally:
        close = getattr(gateway, "aclose", None)
        if close is not None:
            await close()
    log.info("retried %d requested refunds", done)
