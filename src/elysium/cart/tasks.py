"""Job bodies of the cart domain: the purge of expired guest carts
(scheduled by `background.tasks.purge_old_views_and_guest_carts`)."""

from __future__ import annotations

from elysium.cart import service
from elysium.jobs import delete_in_batches


async def purge_expired_guest_carts(batch_size: int) -> int:
    """Delete expired guest carts (with their lines), in batches; the count."""
    return await delete_in_batches(service.delete_expired_guest_carts, batch_size)
