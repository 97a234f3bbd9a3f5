"""The body of the periodic reservation-expiry job (the job scheduler wires it in)."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from elysium.inventory.reservations import Owner, expire_reservations

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
