"""Jobs of the analytics domain: the nightly purge of product views past their retention."""

from __future__ import annotations

import logging
from datetime import timedelta

from elysium.analytics import service
from elysium.config import get_settings
from elysium.jobs import delete_in_batches, job_app
from elysium.kit.clock import utcnow

log = logging.getLogger(__name__)

PURGE_BATCH_ROWS = 5000


@job_app.periodic(cron="45 3 * * *")
@job_app.task(
    name="purge_old_product_views", queue="maintenance", queueing_lock="purge_old_product_views"
)
async def purge_old_product_views(timestamp: int, batch_size: int = PURGE_BATCH_ROWS) -> int:
    """Delete product views older than PRODUCT_VIEW_RETENTION_DAYS, in short batches."""
    cutoff = utcnow() - timedelta(days=get_settings().product_view_retention_days)
    removed = await delete_in_batches(
        lambda session, n: service.delete_product_views_before(session, cutoff, n), batch_size
    )
    log.info("purged %d old product views", removed)
    return removed
