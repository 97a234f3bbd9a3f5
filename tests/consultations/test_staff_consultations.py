"""The staff's view of consultation bookings: every client's, past and upcoming, by status."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from factories import Account, book_next_free_slot, make_account, past_consultation


async def test_staff_list_every_clients_bookings_latest_first(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    ada, grace = await make_account(app), await make_account(app)
    first = await book_next_free_slot(client, ada, "Engagement ring")
    second = await book_next_free_slot(client, grace, "Pearl necklace")
    third = await book_next_free_slot(client, ada, "Wedding bands")
    cancel = await client.delete(f"/api/consultations/{second['id']}", headers=grace.headers)
    assert cancel.status_code == 204
    past = await past_consultation(app, grace, days_ago=10, topic="Watch strap")

    response = await client.get("/api/admin/consultations", headers=staff.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [b["id"] for b in items] == [third["id"], second["id"], first["id"], past]
    by_id = {b["id"]: b for b in items}
    assert (by_id[first["id"]]["customer_email"], by_id[first["id"]]["user_id"]) == (
        ada.email,
        ada.id,
    )
    assert by_id[first["id"]]["customer_name"] == "Ada Client"
    assert by_id[second["id"]]["status"] == "cancelled"
    assert by_id[past]["customer_email"] == grace.email

    booked = await client.get("/api/admin/consultations?status=booked", headers=staff.headers)
    assert [b["id"] for b in booked.json()["items"]] == [third["id"], first["id"], past]
    cancelled = await client.get("/api/admin/consultations?status=cancelled", headers=staff.headers)
    assert [b["id"] for b in cancelled.json()["items"]] == [second["id"]]


async def test_staff_list_pages_with_a_cursor(
    app: FastAPI, client: AsyncClient, customer: Account, admin: Account
) -> None:
    ids = [
        await past_consultation(app, customer, days_ago=d, topic=f"Visit {d}") for d in (1, 2, 3)
    ]
    ids.append((await book_next_free_slot(client, customer, "Upcoming"))["id"])
    seen: list[str] = []
    cursor = ""
    for expected_size in (3, 1):
        page = await client.get(f"/api/admin/consultations?limit=3{cursor}", headers=admin.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) == expected_size
        seen += [b["id"] for b in body["items"]]
        cursor = f"&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    assert cursor == ""
    assert seen == [ids[3], ids[0], ids[1], ids[2]]


async def test_only_staff_may_list_every_booking(
    app: FastAPI, client: AsyncClient, customer: Account, staff: Account
) -> None:
    await book_next_free_slot(client, customer, "Engagement ring")

    refused = await client.get("/api/admin/consultations", headers=customer.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/admin/consultations")).status_code == 401
    for query in ("status=finished", "limit=0", "limit=101", "cursor=not-a-cursor"):
        bad = await client.get(f"/api/admin/consultations?{query}", headers=staff.headers)
        assert bad.status_code == 422, query
