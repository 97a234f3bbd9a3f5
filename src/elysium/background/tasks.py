"""Periodic jobs that span domains. Every worker runs the scheduler; procrastinate defers each
tick once. Each domain's own periodic jobs live in its `tasks.py`."""

from __future__ import annotations

import logging

from elysium.analytics.tasks import purge_old_product_views
from elysium.cart.tasks import purge_expired_guest_carts
from elysium.jobs import job_app

log = logging.getLogger(__name__)

PURGE_BATCH_ROWS = 5000


# One job, as scheduled since the first release (its name is stored with queued jobs); each
# half is its own domain's job body and deletes only that domain's rows.
@job_app.periodic(cron="45 3 * * *")
@job_app.task(
    name="purge_old_views_and_guest_carts",
    queue="maintenance",
    queueing_lock="purge_old_views_and_guest_carts",
)
async def purge_old_views_and_guest_carts(
    timestamp: int, batch_size: int = PURGE_BATCH_ROWS
) -> None:
    """Delete product views older than PRODUCT_VIEW_RETENTION_DAYS and expired guest carts
    (with their lines), in batches."""
    views = await purge_old_product_views(batch_size)
    carts = await purge_expired_guest_carts(batch_size)
    log.info("purged %d old product views and %d expired guest carts", views, carts)
