"""Job bodies of the analytics domain: the purge of product views past their retention
(scheduled by `background.tasks.purge_old_views_and_guest_carts`)."""

from __future__ import annotations

from datetime import timedelta

from elysium.analytics import service
from elysium.config import get_settings
from elysium.jobs import delete_in_batches
from elysium.kit.clock import utcnow


async def purge_old_product_views(batch_size: int) -> int:
    """Delete product views older than PRODUCT_VIEW_RETENTION_DAYS, in batches; the count."""
    cutoff = utcnow() - timedelta(days=get_settings().product_view_retention_days)
    return await delete_in_batches(
        lambda session, n: service.delete_product_views_before(session, cutoff, n), batch_size
    )
