"""The atelier calendar: kinds of consultation, bank holidays and closures, rescheduling,
the atelier's emails, reminders by email and in-app, and races for slots and the cap."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from consultation_helpers import BANK_HOLIDAYS, OPEN_DAYS, at, book, free_starts, open_day
from elysium.config import Settings
from elysium.consultations.calendar import bank_holidays
from elysium.consultations.kinds import offering
from elysium.consultations.service import send_due_reminders
from elysium.consultations.slots import AtelierHours, slots_on
from elysium.kit.clock import utcnow
from elysium.models import Consultation, SentEmail
from factories import Account, make_account, queued_emails
from job_helpers import run_jobs


async def slots(client: AsyncClient, day: date, kind: str) -> list[tuple[datetime, datetime]]:
    response = await client.get(f"/api/consultations/slots?from={day}&to={day}&kind={kind}")
    assert response.status_code == 200, response.text
    return [
        (datetime.fromisoformat(s["starts_at"]), datetime.fromisoformat(s["ends_at"]))
        for s in response.json()["items"]
    ]


async def test_kinds_have_their_length_price_and_days(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    types = {t["kind"]: t for t in (await client.get("/api/consultations/types")).json()}
    assert set(types) == {
        "bridal_design",
        "bespoke_commission",
        "ring_resizing",
        "insurance_valuation",
    }
    assert types["insurance_valuation"]["price"] == {"amount": "150.00", "currency": "GBP"}
    assert types["insurance_valuation"]["free"] is False
    assert types["bridal_design"]["free"] is True
    assert types["bespoke_commission"]["duration_minutes"] == 90

    wednesday = open_day(weekdays={3})
    tuesday = open_day(weekdays={2})
    assert await slots(client, tuesday, "insurance_valuation") == []
    valuation = await slots(client, wednesday, "insurance_valuation")
    assert [s for s, _ in valuation] == [at(wednesday, h) for h in range(10, 18)]
    bespoke = await slots(client, tuesday, "bespoke_commission")
    assert bespoke[0] == (at(tuesday, 10), at(tuesday, 11, 30))
    assert bespoke[-1][1] <= at(tuesday, 18)  # ends by closing: 16:00 is the last start

    body = {"starts_at": at(wednesday, 11).isoformat(), "topic": "Necklace valuation"}
    made = await client.post(
        "/api/consultations", json=body | {"kind": "insurance_valuation"}, headers=customer.headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["price"] == {"amount": "150.00", "currency": "GBP"}
    assert made.json()["kind"] == "insurance_valuation"
    wrong_day = {
        "starts_at": at(tuesday, 11).isoformat(),
        "topic": "x",
        "kind": "insurance_valuation",
    }
    refused = await client.post("/api/consultations", json=wrong_day, headers=customer.headers)
    assert refused.status_code == 422
    unknown = await client.post(
        "/api/consultations", json=body | {"kind": "tea"}, headers=customer.headers
    )
    assert unknown.status_code == 422


async def test_a_long_appointment_blocks_the_slots_it_overlaps(
    app: FastAPI, client: AsyncClient
) -> None:
    first, second = await make_account(app), await make_account(app)
    day = open_day(weekdays={2, 3, 4, 5})
    body = {"starts_at": at(day, 10).isoformat(), "topic": "Tiara", "kind": "bespoke_commission"}
    assert (
        await client.post("/api/consultations", json=body, headers=first.headers)
    ).status_code == 201
    free = await free_starts(client, day)
    assert at(day, 10) not in free  # 10:00-11:30 is taken
    assert at(day, 11) not in free
    assert at(day, 12) in free
    overlapping = await book(client, second, at(day, 11))
    assert overlapping.status_code == 409


def test_christmas_and_boxing_day_are_closed_whatever_the_weekday() -> None:
    settings = Settings(_env_file=None)
    closed = bank_holidays(settings, date(2027, 12, 20), date(2027, 12, 31))
    assert {date(2027, 12, 25), date(2027, 12, 27), date(2027, 12, 28)} <= set(closed)
    hours, terms = AtelierHours.from_settings(settings), offering(None)
    christmas_eve = date(2027, 12, 24)  # a Friday, and no holiday
    assert slots_on(hours, terms, christmas_eve, closed)
    assert (
        slots_on(
            hours,
            terms,
            date(2026, 12, 26),
            bank_holidays(settings, date(2026, 12, 26), date(2026, 12, 26)),
        )
        == []
    )  # Boxing Day 2026 is a Saturday, an opening day


async def test_bank_holidays_are_never_offered(client: AsyncClient, customer: Account) -> None:
    today = datetime.now(UTC).date()
    horizon = [today + timedelta(days=n) for n in range(2, 85)]
    holiday = next(
        (d for d in horizon if d in BANK_HOLIDAYS and d.isoweekday() in OPEN_DAYS),
        None,
    )
    if holiday is None:
        pytest.skip("no bank holiday falls on an opening day within the booking horizon")
    assert await free_starts(client, holiday) == []
    refused = await book(client, customer, at(holiday, 11))
    assert refused.status_code == 422
    assert "closed" in refused.json()["detail"]


async def test_staff_close_the_atelier_for_a_day(
    client: AsyncClient, customer: Account, staff: Account
) -> None:
    day = open_day(4)
    assert await free_starts(client, day)
    closure = {"day": day.isoformat(), "reason": "Stocktaking"}
    assert (
        await client.post("/api/admin/atelier/closures", json=closure, headers=customer.headers)
    ).status_code == 403
    made = await client.post("/api/admin/atelier/closures", json=closure, headers=staff.headers)
    assert made.status_code == 201
    again = await client.post("/api/admin/atelier/closures", json=closure, headers=staff.headers)
    assert again.status_code == 409
    listed = (await client.get("/api/admin/atelier/closures", headers=staff.headers)).json()
    assert listed == [closure]
    assert await free_starts(client, day) == []
    assert (await book(client, customer, at(day, 11))).status_code == 422

    path = f"/api/admin/atelier/closures/{day}"
    assert (await client.delete(path, headers=staff.headers)).status_code == 204
    assert (await client.delete(path, headers=staff.headers)).status_code == 404
    assert (await book(client, customer, at(day, 11))).status_code == 201


async def test_reschedule_moves_the_booking_and_tells_client_and_atelier(
    app: FastAPI, client: AsyncClient
) -> None:
    owner, stranger = await make_account(app), await make_account(app)
    day = open_day()
    booking = (await book(client, owner, at(day, 10))).json()
    taken = (await book(client, stranger, at(day, 12))).json()
    path = f"/api/consultations/{booking['id']}"
    move = {"starts_at": at(day, 15).isoformat()}
    assert (await client.patch(path, json=move, headers=stranger.headers)).status_code == 404
    onto_taken = {"starts_at": at(day, 12).isoformat()}
    assert (await client.patch(path, json=onto_taken, headers=owner.headers)).status_code == 409
    assert (
        await client.patch(path, json={"starts_at": at(day, 9).isoformat()}, headers=owner.headers)
    ).status_code == 422

    moved = await client.patch(path, json=move, headers=owner.headers)
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == at(day, 15)
    assert moved.json()["rescheduled_at"] is not None
    free = await free_starts(client, day)
    assert at(day, 10) in free
    assert at(day, 15) not in free

    [client_email] = await queued_emails(app, "consultation_rescheduled")
    assert client_email.to == owner.email
    staff_emails = await queued_emails(app, "consultation_staff")
    assert [(e.to, (e.context or {})["event"]) for e in staff_emails] == [
        ("atelier@elysium.example", "booked"),
        ("atelier@elysium.example", "booked"),
        ("atelier@elysium.example", "rescheduled"),
    ]
    assert (
        await client.delete(f"/api/consultations/{taken['id']}", headers=stranger.headers)
    ).status_code == 204
    assert (
        await client.delete(f"/api/consultations/{taken['id']}", headers=stranger.headers)
    ).status_code == 204
    events = [(e.context or {})["event"] for e in await queued_emails(app, "consultation_staff")]
    assert events == ["booked", "booked", "rescheduled", "cancelled"]  # a repeat cancel: no email
    cancelled_path = f"/api/consultations/{taken['id']}"
    assert (
        await client.patch(cancelled_path, json=move, headers=stranger.headers)
    ).status_code == 409
    await run_jobs()
    async with app.state.sessionmaker() as session:
        statuses = await session.scalars(
            select(SentEmail.status).where(SentEmail.template == "consultation_staff")
        )
        assert list(statuses) == ["sent"] * 4


async def _booking_tomorrow(app: FastAPI, user_id: str, hours: float = 20) -> None:
    starts = utcnow() + timedelta(hours=hours)
    async with app.state.sessionmaker() as session, session.begin():
        session.add(
            Consultation(
                user_id=uuid.UUID(user_id),
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                topic="engagement ring",
            )
        )


async def test_the_day_before_reminder_goes_by_email_and_in_app_once(
    app: FastAPI, client: AsyncClient
) -> None:
    keen, quiet = await make_account(app), await make_account(app)
    silence = {"preferences": [{"topic": "appointments", "channel": "email", "enabled": False}]}
    changed = await client.put("/api/user/contact-preferences", json=silence, headers=quiet.headers)
    assert changed.status_code == 200
    await _booking_tomorrow(app, keen.id)
    await _booking_tomorrow(app, quiet.id, hours=22)
    for _ in range(2):
        async with app.state.sessionmaker() as session, session.begin():
            await send_due_reminders(session)
    await run_jobs()
    reminders = await queued_emails(app, "consultation_reminder")
    assert [(e.to, e.status) for e in reminders] == [(keen.email, "sent")]
    for who in (keen, quiet):
        notices = (await client.get("/api/notifications", headers=who.headers)).json()["items"]
        [notice] = [n for n in notices if n["kind"] == "consultation_reminder"]
        assert notice["priority"] == "high"
        assert notice["expires_at"] is not None


async def test_ten_clients_race_for_the_last_slot_and_one_wins(
    app: FastAPI, client: AsyncClient
) -> None:
    day = open_day(5)
    holder = await make_account(app)
    async with app.state.sessionmaker() as session, session.begin():
        for hour in range(10, 17):  # every slot but 17:00 is taken
            session.add(
                Consultation(
                    user_id=uuid.UUID(holder.id),
                    starts_at=at(day, hour),
                    ends_at=at(day, hour + 1),
                    topic="held",
                )
            )
    assert await free_starts(client, day) == [at(day, 17)]
    racers = [await make_account(app) for _ in range(10)]
    responses = await asyncio.gather(*(book(client, who, at(day, 17)) for who in racers))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert await free_starts(client, day) == []


async def test_concurrent_bookings_of_one_client_respect_the_cap(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    day = open_day()
    later = open_day((day - datetime.now(UTC).date()).days + 1)
    starts = [at(d, h) for d in (day, later) for h in range(10, 18)][:16]
    responses = await asyncio.gather(*(book(client, customer, s) for s in starts))
    assert sorted(r.status_code for r in responses) == [201] * 3 + [409] * 13
    async with app.state.sessionmaker() as session:
        held = await session.scalar(
            select(func.count()).where(
                Consultation.user_id == uuid.UUID(customer.id), Consultation.cancelled_at.is_(None)
            )
        )
    assert held == 3
