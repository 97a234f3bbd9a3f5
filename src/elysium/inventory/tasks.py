"""The body of the periodic reservation-expiry job (the job scheduler wires it in)."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from elysium.config import get_settings
from elysium.inventory import digest
from elysium.inventory.reservations import Owner, expire_reservations
from elysium.jobs import job_app, job_session

log = structlog.get_logger(__name__)


async def expire_stock_reservations(sessions: async_sessionmaker[AsyncSession]) -> list[Owner]:
    """Delete expired reservations in one committed transaction; return their owners.

    Expired reservations already stopped counting when they expired; this tidies them up and
    tells the caller whose they were, so the orders domain can cancel those orders next.
    """
    async with sessions() as session, session.begin():
        owners = await expire_reservations(session)
    if owners:
        log.info("inventory.reservations_expired", owners=len(owners))
    return owners


@job_app.periodic(cron="0 8 * * *")
@job_app.task(name="send_low_stock_digest", queue="maintenance")
async def send_low_stock_digest(timestamp: int) -> None:
    """The morning low-stock digest to STAFF_EMAIL."""
    async with job_session() as session:
        await digest.send_low_stock_digest(session, get_settings())
