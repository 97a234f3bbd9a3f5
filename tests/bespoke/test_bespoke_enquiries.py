"""Bespoke enquiries: anyone may send one (emails queued), staff list, read and move them."""

from __future__ import annotations

import uuid
from typing import Any

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from elysium.app import create_app
from elysium.config import Settings
from elysium.models import AuditEvent, BespokeEnquiry
from factories import Account, make_account, queued_emails
from job_helpers import jobs_by_task

ENQUIRY: dict[str, Any] = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "+44 20 7946 0000",
    "piece_type": "engagement ring",
    "budget": {"amount": "12000.00", "currency": "GBP"},
    "notes": "An emerald-cut sapphire, <b>platinum</b> band.",
}


async def send_enquiry(client: AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/bespoke", json=ENQUIRY | overrides)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def patch(client: AsyncClient, staff: Account, enquiry_id: str, **fields: Any) -> Any:
    return await client.patch(f"/api/bespoke/{enquiry_id}", json=fields, headers=staff.headers)


async def test_anyone_may_enquire_and_both_emails_are_queued(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    enquiry = await send_enquiry(client)
    assert enquiry["status"] == "new"
    assert enquiry["budget"] == {"amount": "12000.00", "currency": "GBP"}
    assert enquiry["notes"] == ENQUIRY["notes"]
    assert enquiry["reference"].startswith("BSP-")
    uuid.UUID(enquiry["id"])

    [ack] = await queued_emails(app, "bespoke_enquiry_ack")
    assert ack.to == "ada@example.com"
    assert ack.context is not None
    assert ack.context["enquiry_reference"] == enquiry["reference"]
    [notice] = await queued_emails(app, "bespoke_enquiry_staff")
    assert notice.to == settings.staff_email
    assert notice.context is not None
    assert (notice.context["budget"], notice.context["phone"]) == (1200000, "+44 20 7946 0000")
    assert len(await jobs_by_task(app.state.engine, "deliver_email")) == 2


async def test_optional_fields_may_be_left_out(app: FastAPI, client: AsyncClient) -> None:
    body = {k: v for k, v in ENQUIRY.items() if k not in ("phone", "budget")}
    response = await client.post("/api/bespoke", json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["budget"], response.json()["phone"]) == (None, None)
    [notice] = await queued_emails(app, "bespoke_enquiry_staff")
    assert notice.context is not None
    assert notice.context["budget"] is None


async def test_bad_enquiries_are_refused_and_nothing_is_stored(
    app: FastAPI, client: AsyncClient
) -> None:
    bad: list[dict[str, Any]] = [
        {"email": "not-an-email"},
        {"notes": ""},
        {"notes": "x" * 5001},
        {"name": " "},
        {"piece_type": ""},
        {"phone": "call me maybe"},
        {"budget": {"amount": "0.00", "currency": "GBP"}},
        {"budget": {"amount": "-5.00", "currency": "GBP"}},
        {"budget": {"amount": "12000", "currency": "GBP"}},
        {"budget": {"amount": "99999999999.00", "currency": "GBP"}},
        {"budget": {"amount": "100.00", "currency": "pounds"}},
        {"favourite_colour": "green"},
    ]
    for override in bad:
        response = await client.post("/api/bespoke", json=ENQUIRY | override)
        assert response.status_code == 422, override
        assert response.headers["content-type"] == "application/problem+json"
    missing = await client.post("/api/bespoke", json={"name": "Ada", "email": "a@example.com"})
    assert missing.status_code == 422
    fields = {e["field"] for e in missing.json()["errors"]}
    assert {"piece_type", "notes"} <= fields
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(BespokeEnquiry)) == 0
    assert await queued_emails(app, "bespoke_enquiry_ack") == []


async def test_staff_routes_refuse_guests_and_customers(
    app: FastAPI, client: AsyncClient, customer: Account, staff: Account
) -> None:
    enquiry = await send_enquiry(client)
    path = f"/api/bespoke/{enquiry['id']}"
    for headers, expected in (({}, 401), (customer.headers, 403)):
        assert (await client.get("/api/bespoke", headers=headers)).status_code == expected
        assert (await client.get(path, headers=headers)).status_code == expected
        changed = await client.patch(path, json={"status": "won"}, headers=headers)
        assert changed.status_code == expected
    assert (await client.get(path, headers=staff.headers)).json()["status"] == "new"


async def test_staff_list_newest_first_paginated_and_filtered(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    ids = [(await send_enquiry(client, name=f"Client {i}"))["id"] for i in range(3)]
    first = await client.get("/api/bespoke?limit=2", headers=staff.headers)
    assert [e["id"] for e in first.json()["items"]] == [ids[2], ids[1]]
    cursor = first.json()["next_cursor"]
    rest = await client.get(f"/api/bespoke?limit=2&cursor={cursor}", headers=staff.headers)
    assert [e["id"] for e in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None

    assert (await patch(client, staff, ids[1], status="contacted")).status_code == 200
    contacted = await client.get("/api/bespoke?status=contacted", headers=staff.headers)
    assert [e["id"] for e in contacted.json()["items"]] == [ids[1]]
    for query in ("?status=maybe", "?limit=0", "?limit=101", "?cursor=garbage"):
        assert (await client.get(f"/api/bespoke{query}", headers=staff.headers)).status_code == 422
    missing = await client.get(f"/api/bespoke/{uuid.uuid4()}", headers=staff.headers)
    assert missing.status_code == 404
    assert (await client.get("/api/bespoke/not-a-uuid", headers=staff.headers)).status_code == 422


async def test_staff_update_is_audited(app: FastAPI, client: AsyncClient, staff: Account) -> None:
    enquiry = await send_enquiry(client)
    colleague = await make_account(app, "staff")
    response = await patch(
        client,
        staff,
        enquiry["id"],
        status="in_design",
        assignee=colleague.id,
        staff_notes="Sketches on Friday.",
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["status"], updated["assignee"], updated["staff_notes"]) == (
        "in_design",
        colleague.id,
        "Sketches on Friday.",
    )
    assert updated["updated_at"] >= enquiry["updated_at"]
    async with app.state.sessionmaker() as session:
        [event] = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "bespoke.updated")
        )
    assert (str(event.actor_id), event.target_id) == (staff.id, enquiry["id"])
    assert event.details["changes"]["status"] == ["new", "in_design"]
    assert event.details["changes"]["assignee_id"] == [None, colleague.id]

    unassigned = await patch(client, staff, enquiry["id"], assignee=None)
    assert unassigned.json()["assignee"] is None
    assert unassigned.json()["staff_notes"] == "Sketches on Friday."


async def test_status_changes_follow_the_pipeline(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    enquiry_id = (await send_enquiry(client))["id"]
    steps = [
        ("quoted", 200),
        ("new", 409),
        ("lost", 200),
        ("contacted", 200),
        ("won", 200),
        ("lost", 409),
        ("won", 200),
    ]
    for status, expected in steps:
        response = await patch(client, staff, enquiry_id, status=status)
        assert response.status_code == expected, (status, response.text)
    final = await client.get(f"/api/bespoke/{enquiry_id}", headers=staff.headers)
    assert final.json()["status"] == "won"


async def test_bad_updates_are_refused(
    app: FastAPI, client: AsyncClient, customer: Account, staff: Account
) -> None:
    enquiry_id = (await send_enquiry(client))["id"]
    for body in (
        {},
        {"status": "archived"},
        {"assignee": "not-a-uuid"},
        {"assignee": customer.id},
        {"assignee": str(uuid.uuid4())},
        {"staff_notes": "x" * 10001},
        {"priority": "high"},
    ):
        response = await client.patch(
            f"/api/bespoke/{enquiry_id}", json=body, headers=staff.headers
        )
        assert response.status_code == 422, body
    unknown = await patch(client, staff, str(uuid.uuid4()), status="contacted")
    assert unknown.status_code == 404
    final = await client.get(f"/api/bespoke/{enquiry_id}", headers=staff.headers)
    assert (final.json()["status"], final.json()["assignee"]) == ("new", None)


async def test_anonymous_enquiries_are_rate_limited(settings: Settings) -> None:
    strict = create_app(settings.model_copy(update={"enquiries_per_hour": 1}))
    async with LifespanManager(strict):
        transport = ASGITransport(app=strict, client=("192.0.2.45", 1234))
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            statuses = [(await http.post("/api/bespoke", json=ENQUIRY)).status_code for _ in "ab"]
            limited = await http.post("/api/bespoke", json=ENQUIRY)
    assert statuses == [201, 429]
    assert int(limited.headers["retry-after"]) > 0
