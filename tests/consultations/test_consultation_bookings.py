"""Atelier consultations: free slots from opening hours, booking, double booking, cancelling."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from consultation_helpers import at, book, free_starts, open_day
from elysium.models import Consultation, SentEmail
from factories import Account, make_account, queued_emails
from job_helpers import run_jobs


async def test_slots_follow_the_opening_hours(client: AsyncClient) -> None:
    day = open_day()
    starts = await free_starts(client, day)
    assert starts == [at(day, hour) for hour in range(10, 18)]
    assert all(s.utcoffset() == timedelta(0) for s in starts)  # served in UTC
    assert await free_starts(client, open_day(open_=False)) == []
    default = (await client.get("/api/consultations/slots")).json()["items"]
    now = datetime.now(UTC)
    assert default
    assert all(
        now < datetime.fromisoformat(s["starts_at"]) < now + timedelta(days=15) for s in default
    )
    first = default[0]
    ends = datetime.fromisoformat(first["ends_at"]) - datetime.fromisoformat(first["starts_at"])
    assert ends == timedelta(minutes=60)


async def test_slot_queries_are_validated(client: AsyncClient) -> None:
    day = open_day()
    for query in (
        f"from={day}&to={day - timedelta(days=1)}",
        f"from={day}&to={day + timedelta(days=40)}",
        "from=tomorrow",
        "from=2026-02-30",
    ):
        response = await client.get(f"/api/consultations/slots?{query}")
        assert response.status_code == 422, query
    past = await client.get("/api/consultations/slots?from=2020-01-01&to=2020-01-31")
    assert past.json()["items"] == []


async def test_days_at_the_end_of_the_calendar_have_no_slots_rather_than_a_500(
    client: AsyncClient,
) -> None:
    for query in ("from=9999-12-31", "from=9999-12-01&to=9999-12-31", "from=0001-01-01"):
        response = await client.get(f"/api/consultations/slots?{query}")
        assert response.status_code == 200, query
        assert response.json()["items"] == []


async def test_booking_confirms_by_email_and_in_app(app: FastAPI, client: AsyncClient) -> None:
    owner, stranger = await make_account(app), await make_account(app)
    day = open_day()
    response = await book(client, owner, at(day, 14), notes="Bringing my grandmother's ring")
    assert response.status_code == 201, response.text
    booking = response.json()
    assert datetime.fromisoformat(booking["starts_at"]) == at(day, 14)
    assert datetime.fromisoformat(booking["ends_at"]) == at(day, 15)
    assert (booking["status"], booking["topic"]) == ("booked", "Engagement ring")
    assert booking["notes"] == "Bringing my grandmother's ring"

    [email] = await queued_emails(app, "consultation_confirmed")
    assert email.to == owner.email
    notices = (await client.get("/api/notifications", headers=owner.headers)).json()["items"]
    assert [n["kind"] for n in notices] == ["consultation_confirmed"]
    assert notices[0]["data"]["consultation_id"] == booking["id"]

    mine = (await client.get("/api/consultations", headers=owner.headers)).json()
    assert [b["id"] for b in mine["items"]] == [booking["id"]]
    theirs = (await client.get("/api/consultations", headers=stranger.headers)).json()
    assert theirs["items"] == []
    assert at(day, 14) not in await free_starts(client, day)
    assert (await client.get("/api/consultations")).status_code == 401
    assert (await book(client, Account("", "", "", "bad-token"), at(day, 15))).status_code == 401


async def test_a_booked_slot_cannot_be_booked_again(app: FastAPI, client: AsyncClient) -> None:
    first, second = await make_account(app), await make_account(app)
    slot = at(open_day(), 11)
    assert (await book(client, first, slot)).status_code == 201
    same_instant_in_utc = slot.astimezone(UTC).isoformat()
    taken = await book(client, second, same_instant_in_utc)
    assert taken.status_code == 409
    assert taken.headers["content-type"] == "application/problem+json"


async def test_concurrent_bookings_of_one_slot_admit_exactly_one(
    app: FastAPI, client: AsyncClient
) -> None:
    clients = [await make_account(app) for _ in range(8)]
    slot = at(open_day(3), 16)
    responses = await asyncio.gather(*(book(client, who, slot) for who in clients))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7
    async with app.state.sessionmaker() as session:
        active = await session.scalar(
            select(func.count()).where(
                Consultation.starts_at == slot, Consultation.cancelled_at.is_(None)
            )
        )
    assert active == 1


async def test_times_that_are_not_bookable_slots_are_refused(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    day, closed = open_day(), open_day(open_=False)
    last_week = at(open_day(-8), 10)
    bad = [
        last_week,
        at(closed, 10),
        at(day, 9),
        at(day, 10, 30),
        at(day, 18),
        at(day, 17, 59),
        at(open_day(120), 10),
    ]
    for starts_at in bad:
        response = await book(client, customer, starts_at)
        assert response.status_code == 422, (starts_at, response.text)
        assert response.json()["errors"][0]["field"] == "starts_at"
    good = at(day, 10)
    for body in (
        {"starts_at": good.replace(tzinfo=None).isoformat(), "topic": "Rings"},
        {"starts_at": "next tuesday", "topic": "Rings"},
        {"starts_at": good.isoformat(), "topic": ""},
        {"starts_at": good.isoformat(), "topic": "x" * 201},
        {"starts_at": good.isoformat(), "topic": "Rings", "room": "vip"},
        {"topic": "Rings"},
    ):
        response = await client.post("/api/consultations", json=body, headers=customer.headers)
        assert response.status_code == 422, body
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Consultation)) == 0


async def test_cancelling_frees_the_slot_and_only_the_owner_may(
    app: FastAPI, client: AsyncClient
) -> None:
    owner, stranger = await make_account(app), await make_account(app)
    day = open_day()
    booking = (await book(client, owner, at(day, 12))).json()
    path = f"/api/consultations/{booking['id']}"
    assert (await client.delete(path, headers=stranger.headers)).status_code == 404
    assert (await client.delete(path)).status_code == 401
    assert at(day, 12) not in await free_starts(client, day)

    assert (await client.delete(path, headers=owner.headers)).status_code == 204
    assert (await client.delete(path, headers=owner.headers)).status_code == 204
    [listed] = (await client.get("/api/consultations", headers=owner.headers)).json()["items"]
    assert listed["status"] == "cancelled"
    assert listed["cancelled_at"] is not None
    assert at(day, 12) in await free_starts(client, day)
    assert (await book(client, stranger, at(day, 12))).status_code == 201

    unknown = await client.delete(f"/api/consultations/{uuid.uuid4()}", headers=owner.headers)
    assert unknown.status_code == 404
    bad_id = await client.delete("/api/consultations/not-an-id", headers=owner.headers)
    assert bad_id.status_code == 422


async def test_cancelling_emails_the_client_exactly_once(app: FastAPI, client: AsyncClient) -> None:
    owner, stranger = await make_account(app), await make_account(app)
    slot = at(open_day(), 15)
    booking = (await book(client, owner, slot)).json()
    path = f"/api/consultations/{booking['id']}"
    assert (await client.delete(path, headers=stranger.headers)).status_code == 404
    assert await queued_emails(app, "consultation_cancelled") == []

    twice = await asyncio.gather(*(client.delete(path, headers=owner.headers) for _ in range(2)))
    assert [r.status_code for r in twice] == [204, 204]
    assert (await client.delete(path, headers=owner.headers)).status_code == 204

    [email] = await queued_emails(app, "consultation_cancelled")
    assert email.to == owner.email
    assert email.idempotency_key == f"consultation-cancelled:{booking['id']}"
    assert email.context is not None
    assert email.context["starts_at"] == {"$datetime": slot.astimezone(UTC).isoformat()}
    assert email.context["book_url"].endswith("/account/consultations")
    await run_jobs()
    async with app.state.sessionmaker() as session:
        sent = await session.get(SentEmail, email.id)
    assert sent is not None
    assert (sent.status, sent.attempts) == ("sent", 1)


async def test_a_client_may_hold_three_upcoming_bookings(
    client: AsyncClient, customer: Account
) -> None:
    day = open_day()
    for hour in (10, 11, 12):
        assert (await book(client, customer, at(day, hour))).status_code == 201
    assert (await book(client, customer, at(day, 13))).status_code == 409
    mine = await client.get("/api/consultations?limit=2", headers=customer.headers)
    assert [datetime.fromisoformat(b["starts_at"]).hour for b in mine.json()["items"]] == [
        at(day, 12).astimezone(UTC).hour,
        at(day, 11).astimezone(UTC).hour,
    ]
    rest = await client.get(
        f"/api/consultations?limit=2&cursor={mine.json()['next_cursor']}", headers=customer.headers
    )
    assert len(rest.json()["items"]) == 1
