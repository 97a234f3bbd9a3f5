"""Jobs of the cart domain: the nightly purge of expired guest carts."""

from __future__ import annotations

import logging

from elysium.cart import service
from elysium.jobs import delete_in_batches, job_app

log = logging.getLogger(__name__)

PURGE_BATCH_ROWS = 5000


@job_app.periodic(cron="50 3 * * *")
@job_app.task(
    name="purge_expired_guest_carts", queue="maintenance", queueing_lock="purge_expired_guest_carts"
)
async def purge_expired_guest_carts(timestamp: int, batch_size: int = PURGE_BATCH_ROWS) -> int:
    """Delete expired guest carts (with their lines), in short batches."""
    removed = await delete_in_batches(service.delete_expired_guest_carts, batch_size)
    log.info("purged %d expired guest carts", removed)
    return removed
