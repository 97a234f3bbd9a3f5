"""Jobs of the analytics domain: the nightly purge of product views past their retention, which
also makes the monthly partitions of the coming months."""

from __future__ import annotations

import logging
from datetime import timedelta

from elysium.analytics import service
from elysium.config import get_settings
from elysium.jobs import delete_in_batches, job_app, job_session
from elysium.kit.clock import utcnow

log = logging.getLogger(__name__)

PURGE_BATCH_ROWS = 5000


@job_app.periodic(cron="45 3 * * *")
@job_app.task(
    name="purge_old_product_views", queue="maintenance", queueing_lock="purge_old_product_views"
)
async def purge_old_product_views(timestamp: int, batch_size: int = PURGE_BATCH_ROWS) -> int:
    """Remove product views older than PRODUCT_VIEW_RETENTION_DAYS: whole months by dropping
    their partitions, the rest (the month the cutoff falls in, the default partition) in short
    batches; and make the partitions of the coming months. Returns the rows deleted one by one.
    """
    cutoff = utcnow() - timedelta(days=get_settings().product_view_retention_days)
    async with job_session() as session:
        made = await service.ensure_view_partitions(session)
    async with job_session() as session:
        dropped = await service.drop_view_partitions_before(session, cutoff)
    removed = await delete_in_batches(
        lambda session, n: service.delete_product_views_before(session, cutoff, n), batch_size
    )
    await delete_in_batches(
        lambda session, n: service.delete_recent_views_before(session, cutoff, n), batch_size
    )
    log.info(
        "product views: %d partitions made, dropped %s, %d old views deleted",
        made,
        dropped or "none",
        removed,
    )
    return removed
