"""Reminders for appointments in the next 24 hours: in-app, once per booking, never cancelled."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from elysium.consultations.service import send_due_reminders
from elysium.kit.clock import utcnow
from elysium.models import Consultation
from factories import Account


async def _book(app: FastAPI, user_id: str, in_hours: float, cancelled: bool = False) -> None:
    starts = utcnow() + timedelta(hours=in_hours)
    async with app.state.sessionmaker() as session, session.begin():
        session.add(
            Consultation(
                user_id=uuid.UUID(user_id),
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                topic="engagement ring",
                cancelled_at=utcnow() if cancelled else None,
            )
        )


async def test_reminders_go_once_and_only_for_the_next_day(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    await _book(app, customer.id, in_hours=3)
    await _book(app, customer.id, in_hours=50)
    await _book(app, customer.id, in_hours=5, cancelled=True)
    for expected in (1, 0):
        async with app.state.sessionmaker() as session, session.begin():
            assert await send_due_reminders(session) == expected
    notices = (await client.get("/api/notifications", headers=customer.headers)).json()["items"]
    reminders = [n for n in notices if n["kind"] == "consultation_reminder"]
    assert len(reminders) == 1
    assert "look forward" in reminders[0]["body"]
