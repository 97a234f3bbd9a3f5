"""Time in one place, always timezone-aware UTC; the shop's days are Europe/London days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SHOP_TZ_NAME = "Europe/London"
SHOP_TZ = ZoneInfo(SHOP_TZ_NAME)
"""The house's time zone: the calendar days staff filter and report by, and emails show."""


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def london_today(now: datetime | None = None) -> date:
    """Today's date in London."""
    return (now or utcnow()).astimezone(SHOP_TZ).date()


def london_midnight(day: date) -> datetime:
    """The UTC instant at which the London day `day` begins."""
    return datetime.combine(day, time(), SHOP_TZ).astimezone(UTC)


def london_date(at: datetime) -> date:
    """The London day an instant falls on."""
    return at.astimezone(SHOP_TZ).date()
