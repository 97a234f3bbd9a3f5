"""Order notes in the GDPR export and erasure; every sort of the staff order list pages fully."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from admin_helpers import post_form
from back_office import new_order
from elysium.models import OrderNote
from factories import Account


async def _notes(app: FastAPI) -> list[OrderNote]:
    async with app.state.sessionmaker() as session:
        return list(await session.scalars(select(OrderNote)))


async def test_notes_are_exported_and_erased_with_the_client(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    order = await new_order(app, client)
    who: Account = order["customer"]
    note = {"body": "Prefers collection at the atelier"}
    assert (
        await post_form(staff_client, f"/admin/orders/{order['id']}/notes", note)
    ).status_code == 303

    export = (await client.get("/api/user/export", headers=who.headers)).json()
    assert [n["body"] for n in export["order_notes"]] == ["Prefers collection at the atelier"]
    written = (await client.get("/api/user/export", headers=staff.headers)).json()
    assert [n["body"] for n in written["order_notes"]] == ["Prefers collection at the atelier"]

    assert (await client.delete("/api/user", headers=who.headers)).status_code == 204
    assert await _notes(app) == []


async def test_erasing_a_staff_author_keeps_the_note_without_them(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    order = await new_order(app, client)
    note = {"body": "Stone checked under the loupe"}
    await post_form(staff_client, f"/admin/orders/{order['id']}/notes", note)
    assert (await client.delete("/api/user", headers=staff.headers)).status_code == 204
    [kept] = await _notes(app)
    assert (kept.body, kept.author_id) == ("Stone checked under the loupe", None)


@pytest.mark.parametrize("sort", ["newest", "oldest", "total_desc", "total_asc"])
async def test_every_sort_pages_through_every_order_once(
    app: FastAPI, client: AsyncClient, staff: Account, sort: str
) -> None:
    orders = [await new_order(app, client) for _ in range(4)]
    everything = await client.get(
        "/api/admin/orders", params={"sort": sort, "limit": 100}, headers=staff.headers
    )
    expected = [o["id"] for o in everything.json()["items"]]
    assert sorted(expected) == sorted(o["id"] for o in orders)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"sort": sort, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/admin/orders", params=params, headers=staff.headers)).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    other = "total_asc" if sort != "total_asc" else "newest"
    first = await client.get(
        "/api/admin/orders", params={"sort": sort, "limit": 1}, headers=staff.headers
    )
    mixed = await client.get(
        "/api/admin/orders",
        params={"sort": other, "cursor": first.json()["next_cursor"]},
        headers=staff.headers,
    )
    assert mixed.status_code == 422  # a cursor belongs to the sort it was issued for
