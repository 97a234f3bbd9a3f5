"""The atelier's consultation slots, from the opening hours in the settings (pure functions)."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from elysium.config import Settings
from elysium.consultations.kinds import Offering


@dataclass(frozen=True, slots=True)
class AtelierHours:
    """When consultations can happen: open weekdays, wall-clock hours, the slot grid."""

    zone: ZoneInfo
    open_days: frozenset[int]
    opens_at: time
    closes_at: time
    slot: timedelta
    horizon: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> AtelierHours:
        return cls(
            zone=ZoneInfo(settings.atelier_timezone),
            open_days=frozenset(settings.atelier_open_days),
            opens_at=settings.atelier_opens_at,
            closes_at=settings.atelier_closes_at,
            slot=timedelta(minutes=settings.consultation_slot_minutes),
            horizon=timedelta(days=settings.consultation_booking_days),
        )

    def today(self, now: datetime) -> date:
        """The atelier's local date at `now`."""
        return now.astimezone(self.zone).date()


def slots_on(
    hours: AtelierHours, offering: Offering, day: date, closed: Container[date] = ()
) -> list[datetime]:
    """The starts (UTC) of `offering` on one local day: one every slot from opening, as long
    as it ends by closing; none when the atelier is closed or does not offer it that day."""
    weekday = day.isoweekday()
    if weekday not in hours.open_days or weekday not in offering.days or day in closed:
        return []
    start = datetime.combine(day, hours.opens_at, hours.zone)
    close = datetime.combine(day, hours.closes_at, hours.zone)
    starts = []
    while start + offering.duration <= close:  # wall-clock arithmetic in the atelier's zone
        starts.append(start.astimezone(UTC))
        start += hours.slot
    return starts


def bookable_slots(
    hours: AtelierHours,
    offering: Offering,
    first: date,
    last: date,
    now: datetime,
    closed: Container[date] = (),
) -> list[datetime]:
    """Starts from local day `first` to `last` inclusive, after `now`, within the horizon."""
    starts: list[datetime] = []
    day = first
    while day <= last:
        starts += [
            s for s in slots_on(hours, offering, day, closed) if now < s <= now + hours.horizon
        ]
        day += timedelta(days=1)
    return starts


def slot_problem(
    hours: AtelierHours,
    offering: Offering,
    starts_at: datetime,
    now: datetime,
    closed: Container[date] = (),
) -> str | None:
    """Why `starts_at` cannot be booked for `offering`, or None when it is a bookable slot."""
    if starts_at <= now:
        return "This time is in the past."
    if starts_at > now + hours.horizon:
        return f"Bookings open {hours.horizon.days} days ahead."
    day = hours.today(starts_at)
    if day in closed:
        return "The atelier is closed that day."
    if starts_at not in slots_on(hours, offering, day):
        return (
            f"This is not the start of a {offering.title.lower()} slot: it is offered on "
            "certain days, within opening hours."
        )
    return None
