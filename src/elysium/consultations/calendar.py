"""Days the atelier does not offer consultations: UK bank holidays and closures set by staff."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.consultations.schemas import ClosureCreate, ClosureRead
from elysium.db import rows_affected
from elysium.errors import ConflictError, NotFoundError
from elysium.kit.clock import utcnow
from elysium.models import AtelierClosure


@lru_cache(maxsize=64)
def _bank_holidays(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return {day: str(name) for day, name in found.items()}


def bank_holidays(settings: Settings, first: date, last: date) -> dict[date, str]:
    """Public holidays (the maintained `holidays` package) from `first` to `last`."""
    days: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        for day, name in _bank_holidays(
            settings.atelier_holiday_country, settings.atelier_holiday_subdivision or None, year
        ).items():
            if first <= day <= last:
                days[day] = name
    return days


async def closed_days(
    session: AsyncSession, settings: Settings, first: date, last: date
) -> dict[date, str]:
    """Every day from `first` to `last` without consultations, with the reason."""
    closures = await session.execute(
        select(AtelierClosure.day, AtelierClosure.reason).where(
            AtelierClosure.day.between(first, last)
        )
    )
    return bank_holidays(settings, first, last) | dict(closures.tuples().all())


async def list_closures(session: AsyncSession) -> list[ClosureRead]:
    """Closures from today on, soonest first."""
    today = utcnow().date()
    rows = await session.scalars(
        select(AtelierClosure).where(AtelierClosure.day >= today).order_by(AtelierClosure.day)
    )
    return [ClosureRead(day=c.day, reason=c.reason) for c in rows]


async def add_closure(session: AsyncSession, data: ClosureCreate) -> ClosureRead:
    """Close the atelier on one day; 409 when that day is already closed."""
    added = await session.scalar(
        insert(AtelierClosure)
        .values(day=data.day, reason=data.reason)
        .on_conflict_do_nothing(index_elements=[AtelierClosure.day])
        .returning(AtelierClosure.id)
    )
    if added is None:
        raise ConflictError(f"The atelier is already closed on {data.day.isoformat()}.")
    return ClosureRead(day=data.day, reason=data.reason)


async def remove_closure(session: AsyncSession, day: date) -> None:
    """Open the atelier again on `day`; 404 when it was not closed."""
    result = await session.execute(delete(AtelierClosure).where(AtelierClosure.day == day))
    if not rows_affected(result):
        raise NotFoundError(f"The atelier is not closed on {day.isoformat()}.")
