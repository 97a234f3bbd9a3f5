"""Helpers of the consultation tests: opening days, slot times, booking through the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from httpx import AsyncClient, Response

from factories import Account

LONDON = ZoneInfo("Europe/London")
OPEN_DAYS = {2, 3, 4, 5, 6}  # the default: Tuesday to Saturday, 10:00 to 18:00, 60 minutes


BANK_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG")


def open_day(days_ahead: int = 2, open_: bool = True, weekdays: set[int] = OPEN_DAYS) -> date:
    """The first London day at least `days_ahead` away that is (or is not) an opening day
    (bank holidays are never opening days)."""
    day = datetime.now(LONDON).date() + timedelta(days=days_ahead)
    while (day.isoweekday() in weekdays and day not in BANK_HOLIDAYS) != open_:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LONDON)


async def book(
    client: AsyncClient, who: Account, starts_at: datetime | str, **extra: Any
) -> Response:
    when = starts_at if isinstance(starts_at, str) else starts_at.isoformat()
    body = {"starts_at": when, "topic": "Engagement ring"} | extra
    return await client.post("/api/consultations", json=body, headers=who.headers)


async def free_starts(client: AsyncClient, day: date) -> list[datetime]:
    response = await client.get(f"/api/consultations/slots?from={day}&to={day}")
    assert response.status_code == 200, response.text
    return [datetime.fromisoformat(s["starts_at"]) for s in response.json()["items"]]
