"""The consultation calendar: a day and a week view; staff cancel and reschedule through the
consultations service (client emailed, audited), on the page and through the API."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from admin_helpers import post_form, sign_in_staff
from elysium.kit.clock import london_date
from elysium.models import AuditEvent, Consultation
from factories import Account, book_next_free_slot, make_account, past_consultation, queued_emails


async def _booking(app: FastAPI, booking_id: str) -> Consultation:
    async with app.state.sessionmaker() as session:
        row: Consultation | None = await session.get(Consultation, uuid.UUID(booking_id))
    assert row is not None
    return row


async def test_day_and_week_views_list_the_bookings_of_those_days(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    ada = await make_account(app)
    booking = await book_next_free_slot(client, ada, "Sapphire engagement ring")
    day = london_date(datetime.fromisoformat(booking["starts_at"]))
    await sign_in_staff(client, staff)

    week = await client.get(f"/admin/consultations?view=week&date={day.isoformat()}")
    single = await client.get(f"/admin/consultations?view=day&date={day.isoformat()}")
    other = await client.get("/admin/consultations?view=day&date=2020-01-01")

    assert week.text.count('class="day') == 7
    assert f'data-testid="day-{day.isoformat()}"' in week.text
    assert "Sapphire engagement ring" in week.text
    assert single.text.count('class="day') == 1
    assert ada.email in single.text
    assert f'data-testid="consultation-cancel-{booking["id"]}"' in single.text
    assert f'data-testid="consultation-reschedule-{booking["id"]}"' in single.text
    assert "Sapphire engagement ring" not in other.text
    assert (await client.get("/admin/consultations?view=year")).status_code == 422


async def test_staff_cancel_a_booking_and_the_client_is_told(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    ada = await make_account(app)
    booking = await book_next_free_slot(client, ada, "Pearls")
    await sign_in_staff(client, staff)

    done = await post_form(client, f"/admin/consultations/{booking['id']}/cancel", {})

    assert done.status_code == 303
    assert (await _booking(app, booking["id"])).cancelled_at is not None
    [email] = await queued_emails(app, "consultation_cancelled")
    assert email.to == ada.email
    again = await post_form(client, f"/admin/consultations/{booking['id']}/cancel", {})
    assert again.status_code == 409
    past = await past_consultation(app, ada, days_ago=2, topic="Old")
    assert (await post_form(client, f"/admin/consultations/{past}/cancel", {})).status_code == 409
    async with app.state.sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "consultation.cancelled")
        )
    assert event is not None
    assert str(event.actor_id) == staff.id


async def test_staff_reschedule_to_a_free_slot_only(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    ada, grace = await make_account(app), await make_account(app)
    first = await book_next_free_slot(client, ada, "Emerald")
    second = await book_next_free_slot(client, grace, "Ruby")
    slots = (await client.get("/api/consultations/slots")).json()["items"]
    target = slots[0]["starts_at"]
    await sign_in_staff(client, staff)

    moved = await post_form(
        client, f"/admin/consultations/{first['id']}/reschedule", {"starts_at": target}
    )

    assert moved.status_code == 303
    row = await _booking(app, first["id"])
    assert row.starts_at == datetime.fromisoformat(target)
    assert len(await queued_emails(app, "consultation_confirmed")) == 3  # 2 bookings + 1 move
    taken = await post_form(
        client,
        f"/admin/consultations/{first['id']}/reschedule",
        {"starts_at": second["starts_at"]},
    )
    assert taken.status_code == 409
    assert (await _booking(app, first["id"])).starts_at == datetime.fromisoformat(target)
    odd = await post_form(
        client,
        f"/admin/consultations/{first['id']}/reschedule",
        {"starts_at": "2030-01-01T03:17:00+00:00"},
    )
    assert odd.status_code == 422
    assert (
        await post_form(client, f"/admin/consultations/{first['id']}/reschedule", {})
    ).status_code == 422


async def test_the_staff_api_cancels_and_reschedules(
    app: FastAPI, client: AsyncClient, staff: Account, customer: Account
) -> None:
    booking = await book_next_free_slot(client, customer, "Diamonds")
    slots = (await client.get("/api/consultations/slots")).json()["items"]
    base = f"/api/admin/consultations/{booking['id']}"

    refused = await client.post(f"{base}/cancel", headers=customer.headers)
    assert refused.status_code == 403
    moved = await client.post(
        f"{base}/reschedule", json={"starts_at": slots[1]["starts_at"]}, headers=staff.headers
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["customer_email"] == customer.email
    assert (await _booking(app, booking["id"])).starts_at == datetime.fromisoformat(
        slots[1]["starts_at"]
    )
    cancelled = await client.post(f"{base}/cancel", headers=staff.headers)
    assert cancelled.status_code == 204
    missing = await client.post(
        f"/api/admin/consultations/{uuid.uuid4()}/cancel", headers=staff.headers
    )
    assert missing.status_code == 404
