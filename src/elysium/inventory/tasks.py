"""Jobs of the inventory domain: the morning low-stock digest.

Expired reservations are the orders domain's job (`orders.tasks.expire_holds`): it releases
stock and cancels the unpaid order that held it together.
"""

from __future__ import annotations

from elysium.config import get_settings
from elysium.inventory import digest
from elysium.jobs import job_app, job_session


@job_app.periodic(cron="0 8 * * *")
@job_app.task(name="send_low_stock_digest", queue="maintenance")
async def send_low_stock_digest(timestamp: int) -> None:
    """The morning low-stock digest to STAFF_EMAIL."""
    async with job_session() as session:
        await digest.send_low_stock_digest(session, get_settings())
