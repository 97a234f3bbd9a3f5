"""Consultation bookings: one active booking per slot, guaranteed by a unique index."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.config import Settings, get_settings
from elysium.consultations.calendar import closed_days
from elysium.consultations.kinds import OFFERINGS, Offering, offering
from elysium.consultations.schemas import (
    ConsultationAdminRead,
    ConsultationCreate,
    ConsultationRead,
    ConsultationReschedule,
    ConsultationStatus,
    ConsultationTypeRead,
    Slot,
)
from elysium.consultations.slots import AtelierHours, bookable_slots, slot_problem
from elysium.errors import ConflictError, NotFoundError, ValidationFailedError
from elysium.kit.clock import utcnow
from elysium.kit.keyset import decode_time_cursor, page_of
from elysium.kit.money import Money
from elysium.kit.pagination import Page
from elysium.models import (
    Consultation,
    ConsultationKind,
    ContactChannel,
    ContactTopic,
    Priority,
    User,
)
from elysium.notifications.email.templates import format_london_datetime
from elysium.notifications.emails import notify_staff, send_email
from elysium.notifications.preferences import may_contact
from elysium.notifications.service import notify_user
from elysium.subscriptions import service as subscriptions

Ts = TypeVarTuple("Ts")

DEFAULT_SPAN = timedelta(days=13)
MAX_SPAN = timedelta(days=31)


def _range_error(detail: str) -> ValidationFailedError:
    return ValidationFailedError(detail, errors=[{"field": "to", "message": detail}])


def _read(booking: Consultation) -> ConsultationRead:
    return ConsultationRead(
        id=booking.id,
        kind=booking.kind,
        price=Money.from_pence(booking.price_pence, booking.currency),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        topic=booking.topic,
        notes=booking.notes,
        status="booked" if booking.cancelled_at is None else "cancelled",
        cancelled_at=booking.cancelled_at,
        rescheduled_at=booking.rescheduled_at,
        created_at=booking.created_at,
        care_plan_subscription_id=booking.care_plan_subscription_id,
    )


def list_types() -> list[ConsultationTypeRead]:
    """Every kind of consultation with its length, price and days."""
    return [
        ConsultationTypeRead(
            kind=o.kind,
            title=o.title,
            duration_minutes=o.minutes,
            price=Money.from_pence(o.price_pence, o.currency),
            free=o.price_pence == 0,
            days=sorted(o.days),
        )
        for o in OFFERINGS.values()
    ]


async def _active_between(
    session: AsyncSession, start: datetime, end: datetime, ignore: uuid.UUID | None = None
) -> list[tuple[datetime, datetime]]:
    """(start, end) of active bookings overlapping [start, end)."""
    stmt = select(Consultation.starts_at, Consultation.ends_at).where(
        Consultation.cancelled_at.is_(None),
        Consultation.starts_at < end,
        Consultation.ends_at > start,
    )
    if ignore is not None:
        stmt = stmt.where(Consultation.id != ignore)
    return [(a, b) for a, b in await session.execute(stmt)]


async def free_slots(
    session: AsyncSession,
    settings: Settings,
    first: date | None,
    last: date | None,
    kind: ConsultationKind | None = None,
) -> list[Slot]:
    """Free slots of `kind` from local day `first` (default today) to `last` (default two
    weeks on); bank holidays and closures are never offered."""
    hours, now, terms = AtelierHours.from_settings(settings), utcnow(), offering(kind)
    first = first or hours.today(now)
    if last is not None and last < first:
        raise _range_error("`to` must not be before `from`.")
    if last is not None and last - first > MAX_SPAN:
        raise _range_error(f"Ask for at most {MAX_SPAN.days + 1} days at a time.")
    # No slot is bookable past the horizon: later days are empty, and clamping keeps the day
    # arithmetic away from date.max (`from=9999-12-31`).
    final = hours.today(now) + hours.horizon + timedelta(days=1)
    if first > final:
        return []
    last = min(last or first + DEFAULT_SPAN, final)
    closed = await closed_days(session, settings, first, last)
    starts = bookable_slots(hours, terms, first, last, now, closed)
    if not starts:
        return []
    taken = await _active_between(session, starts[0], starts[-1] + terms.duration)
    return [
        Slot(starts_at=s, ends_at=s + terms.duration)
        for s in starts
        if not any(a < s + terms.duration and s < b for a, b in taken)
    ]


async def _ensure_room_for_another(
    session: AsyncSession, settings: Settings, user: User, now: datetime
) -> None:
    """409 when the client already holds the most upcoming bookings allowed.

    A transaction-scoped advisory lock per client serialises a client's concurrent bookings,
    so the count below always includes the ones committed a moment ago (READ COMMITTED reads
    them once the lock is granted) and the cap holds under any concurrency.
    """
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"consultations:{user.id}", 0)))
    )
    upcoming = await session.scalar(
        select(func.count()).where(
            Consultation.user_id == user.id,
            Consultation.cancelled_at.is_(None),
            Consultation.starts_at > now,
        )
    )
    if (upcoming or 0) >= settings.consultation_max_upcoming:
        raise ConflictError(
            f"You already have {upcoming} upcoming consultations; cancel one to book another."
        )


async def _ensure_care_plan(
    session: AsyncSession, user: User, subscription_id: uuid.UUID | None
) -> None:
    """A care-plan service is booked without charge only while the client's plan is active."""
    if subscription_id is None:
        return
    if not await subscriptions.has_active_care_plan(session, user.id, subscription_id):
        raise ConflictError("That care plan is not active; its services cannot be booked.")


async def _check_slot(
    session: AsyncSession,
    settings: Settings,
    hours: AtelierHours,
    terms: Offering,
    starts_at: datetime,
    now: datetime,
) -> None:
    day = hours.today(starts_at)
    closed = await closed_days(session, settings, day, day)
    problem = slot_problem(hours, terms, starts_at, now, closed)
    if problem is not None:
        raise ValidationFailedError(problem, errors=[{"field": "starts_at", "message": problem}])


async def _flush_or_taken(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConflictError("This time has just been booked; please choose another.") from exc


async def book_consultation(
    session: AsyncSession, settings: Settings, user: User, data: ConsultationCreate
) -> ConsultationRead:
    """Book a free slot; 422 for a time that is not a bookable slot, 409 when it is taken."""
    hours, now, terms = AtelierHours.from_settings(settings), utcnow(), offering(data.kind)
    await _check_slot(session, settings, hours, terms, data.starts_at, now)
    await _ensure_room_for_another(session, settings, user, now)
    await _ensure_care_plan(session, user, data.care_plan_subscription_id)
    booking = Consultation(
        id=uuid.uuid4(),
        user_id=user.id,
        kind=terms.kind,
        # a care-plan service is included in the plan: no charge while the plan is active
        price_pence=0 if data.care_plan_subscription_id is not None else terms.price_pence,
        currency=terms.currency,
        starts_at=data.starts_at,
        ends_at=data.starts_at + terms.duration,
        topic=data.topic,
        notes=data.notes or None,
        care_plan_subscription_id=data.care_plan_subscription_id,
    )
    session.add(booking)
    await _flush_or_taken(session)
    await _confirm(session, settings, user, booking)
    await _tell_atelier(session, settings, user, booking, "booked")
    return _read(booking)


async def reschedule_consultation(
    session: AsyncSession,
    settings: Settings,
    user: User,
    consultation_id: uuid.UUID,
    data: ConsultationReschedule,
) -> ConsultationRead:
    """Move one of the client's upcoming bookings to another free slot of the same kind."""
    booking = await _own_upcoming(session, user, consultation_id)
    hours, now, terms = AtelierHours.from_settings(settings), utcnow(), offering(booking.kind)
    if data.starts_at == booking.starts_at:
        return _read(booking)
    await _check_slot(session, settings, hours, terms, data.starts_at, now)
    previous = booking.starts_at
    booking.starts_at = data.starts_at
    booking.ends_at = data.starts_at + terms.duration
    booking.rescheduled_at = now
    booking.reminded_at = None
    await _flush_or_taken(session)
    change = f"{booking.id}:{now.isoformat()}"
    await send_email(
        session,
        to=user.email,
        template="consultation_rescheduled",
        context={
            "customer_name": user.name or "Client",
            "starts_at": booking.starts_at,
            "previous_starts_at": previous,
            "manage_url": _account_url(settings),
        },
        idempotency_key=f"consultation-rescheduled:{change}",
    )
    await _tell_atelier(session, settings, user, booking, "rescheduled", change, previous)
    return _read(booking)


async def _own_upcoming(
    session: AsyncSession, user: User, consultation_id: uuid.UUID
) -> Consultation:
    booking = await session.get(Consultation, consultation_id, with_for_update=True)
    if booking is None or booking.user_id != user.id:
        raise NotFoundError("No such consultation.")
    if booking.cancelled_at is not None:
        raise ConflictError("This consultation was cancelled; please book a new one.")
    if booking.starts_at <= utcnow():
        raise ConflictError("This consultation has already taken place.")
    return booking


async def _tell_atelier(
    session: AsyncSession,
    settings: Settings,
    user: User,
    booking: Consultation,
    event: str,
    change: str | None = None,
    previous: datetime | None = None,
) -> None:
    """Email the atelier (`STAFF_EMAIL`) about a booking, a change or a cancellation."""
    await notify_staff(
        session,
        settings,
        template="consultation_staff",
        context={
            "event": event,
            "kind": offering(booking.kind).title,
            "customer_name": user.name or "",
            "customer_email": user.email,
            "starts_at": booking.starts_at,
            "ends_at": booking.ends_at,
            "previous_starts_at": previous,
            "topic": booking.topic,
            "notes": booking.notes or "",
        },
        idempotency_key=f"consultation-staff:{event}:{change or booking.id}",
    )


async def _email_client(
    session: AsyncSession,
    settings: Settings,
    user: User,
    booking: Consultation,
    template: str,
    key_suffix: str = "",
    **extra: object,
) -> None:
    """Queue `template` about `booking` to its client; once per booking and template (and
    `key_suffix`)."""
    context = {
        "customer_name": user.name or "Client",
        "starts_at": booking.starts_at,
        **extra,
    }
    await send_email(
        session,
        to=user.email,
        template=template,
        context=context,
        idempotency_key=":".join(
            part for part in (template.replace("_", "-"), str(booking.id), key_suffix) if part
        ),
    )


def _account_url(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/account/consultations"


async def _confirm(
    session: AsyncSession,
    settings: Settings,
    user: User,
    booking: Consultation,
    key_suffix: str = "",
) -> None:
    """Queue the confirmation email and add the in-app notice (`key_suffix`: a new occasion,
    such as a move to another time, gets its own email)."""
    await _email_client(
        session,
        settings,
        user,
        booking,
        "consultation_confirmed",
        key_suffix,
        duration_minutes=offering(booking.kind).minutes,
        location=settings.atelier_address,
        manage_url=_account_url(settings),
    )
    await notify_user(
        session,
        user.id,
        "consultation_confirmed",
        "Your consultation is booked",
        f"We look forward to welcoming you on {format_london_datetime(booking.starts_at)}.",
        {"consultation_id": str(booking.id), "starts_at": booking.starts_at.isoformat()},
    )


def _latest_first(stmt: Select[*Ts], limit: int, cursor: str | None) -> Select[*Ts]:
    """One keyset page (plus one row) of bookings, latest slot first."""
    after = decode_time_cursor(cursor)
    if after is not None:
        stmt = stmt.where(tuple_(Consultation.starts_at, Consultation.id) < after)
    return stmt.order_by(Consultation.starts_at.desc(), Consultation.id.desc()).limit(limit + 1)


async def list_consultations(
    session: AsyncSession, user: User, limit: int, cursor: str | None
) -> Page[ConsultationRead]:
    """The user's bookings, cancelled ones included, latest slot first."""
    stmt = _latest_first(select(Consultation).where(Consultation.user_id == user.id), limit, cursor)
    rows = list((await session.scalars(stmt)).all())
    page, next_cursor = page_of(rows, limit, lambda c: (c.starts_at, c.id))
    return Page(items=[_read(c) for c in page], next_cursor=next_cursor)


# --- the staff's view ---------------------------------------------------------------------

_WITH_CLIENT = select(Consultation, User.email, User.name).join(
    User, User.id == Consultation.user_id
)


def _admin_read(row: Row[Consultation, str, str | None]) -> ConsultationAdminRead:
    booking, email, name = row
    return ConsultationAdminRead(
        **_read(booking).model_dump(),
        user_id=booking.user_id,
        customer_email=email,
        customer_name=name,
    )


def _in_status(status: ConsultationStatus) -> ColumnElement[bool]:
    cancelled = Consultation.cancelled_at
    return cancelled.is_(None) if status == "booked" else cancelled.is_not(None)


async def list_all_consultations(
    session: AsyncSession, status: ConsultationStatus | None, limit: int, cursor: str | None
) -> Page[ConsultationAdminRead]:
    """Every client's bookings, past and upcoming, latest slot first (staff)."""
    stmt = _WITH_CLIENT if status is None else _WITH_CLIENT.where(_in_status(status))
    rows = list(await session.execute(_latest_first(stmt, limit, cursor)))
    page, next_cursor = page_of(rows, limit, lambda row: (row[0].starts_at, row[0].id))
    return Page(items=[_admin_read(row) for row in page], next_cursor=next_cursor)


async def upcoming_consultations(session: AsyncSession, limit: int) -> list[ConsultationAdminRead]:
    """Booked appointments still to come, soonest first (the atelier's diary)."""
    stmt = (
        _WITH_CLIENT.where(_in_status("booked"), Consultation.starts_at > utcnow())
        .order_by(Consultation.starts_at, Consultation.id)
        .limit(limit)
    )
    return [_admin_read(row) for row in await session.execute(stmt)]


async def cancel_consultation(
    session: AsyncSession, settings: Settings, user: User, consultation_id: uuid.UUID
) -> None:
    """Cancel one of the user's bookings, freeing the slot, and queue the client's email;
    another user's is 404, cancelling again changes nothing."""
    booking = await session.get(Consultation, consultation_id, with_for_update=True)
    if booking is None or booking.user_id != user.id:
        raise NotFoundError("No such consultation.")
    if booking.cancelled_at is not None:
        return
    if booking.starts_at <= utcnow():
        raise ConflictError("This consultation has already taken place.")
    booking.cancelled_at = utcnow()
    await session.flush()
    await _email_client(
        session, settings, user, booking, "consultation_cancelled", book_url=_account_url(settings)
    )
    await _tell_atelier(session, settings, user, booking, "cancelled")


async def consultations_between(
    session: AsyncSession, start: datetime, end: datetime
) -> list[ConsultationAdminRead]:
    """Bookings (cancelled ones included) starting in [start, end), soonest first (staff)."""
    stmt = _WITH_CLIENT.where(Consultation.starts_at >= start, Consultation.starts_at < end)
    stmt = stmt.order_by(Consultation.starts_at, Consultation.id)
    return [_admin_read(row) for row in await session.execute(stmt)]


async def _staff_booking(session: AsyncSession, consultation_id: uuid.UUID) -> Consultation:
    booking = await session.get(Consultation, consultation_id, with_for_update=True)
    if booking is None:
        raise NotFoundError("No such consultation.")
    if booking.cancelled_at is not None:
        raise ConflictError("This consultation has been cancelled.")
    if booking.starts_at <= utcnow():
        raise ConflictError("This consultation has already taken place.")
    return booking


async def cancel_for_client(
    session: AsyncSession, settings: Settings, staff: User, consultation_id: uuid.UUID
) -> None:
    """Staff cancel a client's upcoming booking: the slot is freed, the client emailed, the
    action audited. 409 for one already cancelled or past."""
    booking = await _staff_booking(session, consultation_id)
    booking.cancelled_at = utcnow()
    await session.flush()
    client = await session.get_one(User, booking.user_id)
    await _email_client(
        session,
        settings,
        client,
        booking,
        "consultation_cancelled",
        book_url=_account_url(settings),
    )
    await record_event(
        session,
        "consultation.cancelled",
        actor_id=staff.id,
        target_type="consultation",
        target_id=booking.id,
        details={"starts_at": booking.starts_at.isoformat()},
    )


async def reschedule(
    session: AsyncSession,
    settings: Settings,
    staff: User,
    consultation_id: uuid.UUID,
    starts_at: datetime,
) -> ConsultationAdminRead:
    """Move an upcoming booking to another free slot (the client is sent a fresh confirmation;
    audited). 422 for a time that is not a bookable slot, 409 when the slot is taken."""
    booking = await _staff_booking(session, consultation_id)
    hours, now, terms = AtelierHours.from_settings(settings), utcnow(), offering(booking.kind)
    await _check_slot(session, settings, hours, terms, starts_at, now)
    before = booking.starts_at
    booking.starts_at, booking.ends_at = starts_at, starts_at + terms.duration
    booking.rescheduled_at = now
    booking.reminded_at = None  # remind the client of the new time
    await _flush_or_taken(session)
    client = await session.get_one(User, booking.user_id)
    await _confirm(session, settings, client, booking, key_suffix=starts_at.isoformat())
    await record_event(
        session,
        "consultation.rescheduled",
        actor_id=staff.id,
        target_type="consultation",
        target_id=booking.id,
        details={"from": before.isoformat(), "to": starts_at.isoformat()},
    )
    return _admin_read((booking, client.email, client.name))  # type: ignore[arg-type]


REMINDER_LEAD = timedelta(hours=24)


async def send_due_reminders(
    session: AsyncSession, settings: Settings | None = None, lead: timedelta = REMINDER_LEAD
) -> int:
    """Remind clients of appointments starting within `lead`, in-app and by email, as their
    appointment preferences allow; each booking once (again after a reschedule).

    SKIP LOCKED lets several workers run this at once without sending a reminder twice.
    """
    settings = settings or get_settings()
    now = utcnow()
    due = await session.execute(
        select(Consultation, User)
        .join(User, User.id == Consultation.user_id)
        .where(
            Consultation.cancelled_at.is_(None),
            Consultation.reminded_at.is_(None),
            Consultation.starts_at > now,
            Consultation.starts_at <= now + lead,
        )
        .with_for_update(of=Consultation, skip_locked=True)
    )
    bookings = list(due.tuples())
    for booking, user in bookings:
        booking.reminded_at = now
        await _remind(session, settings, user, booking)
    await session.flush()
    return len(bookings)


async def _remind(
    session: AsyncSession, settings: Settings, user: User, booking: Consultation
) -> None:
    topic = ContactTopic.APPOINTMENTS
    if await may_contact(session, user.id, topic, ContactChannel.IN_APP):
        await notify_user(
            session,
            booking.user_id,
            "consultation_reminder",
            "Your atelier appointment is soon",
            f"We look forward to seeing you on {format_london_datetime(booking.starts_at)}.",
            {"consultation_id": str(booking.id)},
            priority=Priority.HIGH,
            expires_at=booking.ends_at,
        )
    if await may_contact(session, user.id, topic, ContactChannel.EMAIL):
        await _email_client(
            session,
            settings,
            user,
            booking,
            "consultation_reminder",
            kind=offering(booking.kind).title,
            location=settings.atelier_address,
            manage_url=_account_url(settings),
            key_suffix=booking.starts_at.isoformat(),
        )
