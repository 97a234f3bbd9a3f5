"""Time in one place, always timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


LONDON = ZoneInfo("Europe/London")
"""The house's time zone: the calendar days staff filter and report by."""


def london_midnight(day: date) -> datetime:
    """The instant a London calendar day starts, in UTC."""
    return datetime.combine(day, time.min, tzinfo=LONDON).astimezone(UTC)
