"""In-app notifications: newest first, paginated, unread filter, marking read, owners only."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from httpx import AsyncClient

from elysium.notifications.service import notify_user
from factories import Account, make_account


async def add_notices(app: FastAPI, account: Account, count: int) -> list[str]:
    async with app.state.sessionmaker() as session, session.begin():
        notices = [
            await notify_user(
                session,
                uuid.UUID(account.id),
                "order_status",
                f"Order update {i}",
                f"Your order moved to step {i}.",
                {"order_id": f"order-{i}"},
            )
            for i in range(count)
        ]
    return [str(n.id) for n in notices]


async def test_list_is_newest_first_and_paginated(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    ids = await add_notices(app, customer, 3)
    first = await client.get("/api/notifications?limit=2", headers=customer.headers)
    assert first.status_code == 200
    page = first.json()
    assert [n["id"] for n in page["items"]] == [ids[2], ids[1]]
    top = page["items"][0]
    assert (top["kind"], top["title"], top["read_at"]) == ("order_status", "Order update 2", None)
    assert top["data"] == {"order_id": "order-2"}
    rest = await client.get(
        f"/api/notifications?limit=2&cursor={page['next_cursor']}", headers=customer.headers
    )
    assert [n["id"] for n in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None


async def test_marking_read_and_the_unread_filter(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    ids = await add_notices(app, customer, 3)
    marked = await client.post(f"/api/notifications/{ids[1]}/read", headers=customer.headers)
    assert marked.status_code == 200
    assert marked.json()["read_at"] is not None
    again = await client.post(f"/api/notifications/{ids[1]}/read", headers=customer.headers)
    assert again.json()["read_at"] == marked.json()["read_at"]
    unread = await client.get("/api/notifications?unread=true", headers=customer.headers)
    assert [n["id"] for n in unread.json()["items"]] == [ids[2], ids[0]]

    everything = await client.post("/api/notifications/read-all", headers=customer.headers)
    assert everything.json() == {"marked_read": 2}
    unread = await client.get("/api/notifications?unread=true", headers=customer.headers)
    assert unread.json()["items"] == []
    listed = await client.get("/api/notifications", headers=customer.headers)
    assert len(listed.json()["items"]) == 3


async def test_another_users_notification_is_not_found(app: FastAPI, client: AsyncClient) -> None:
    owner = await make_account(app)
    other = await make_account(app)
    [notice] = await add_notices(app, owner, 1)
    response = await client.post(f"/api/notifications/{notice}/read", headers=other.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/notifications", headers=other.headers)).json()["items"] == []
    read_all = await client.post("/api/notifications/read-all", headers=other.headers)
    assert read_all.json() == {"marked_read": 0}
    owners = await client.get("/api/notifications?unread=true", headers=owner.headers)
    assert [n["id"] for n in owners.json()["items"]] == [notice]


async def test_notifications_need_sign_in_and_valid_input(
    client: AsyncClient, customer: Account
) -> None:
    assert (await client.get("/api/notifications")).status_code == 401
    assert (await client.post("/api/notifications/read-all")).status_code == 401
    for path in (
        "/api/notifications?limit=101",
        "/api/notifications?cursor=bm9wZQ",
        "/api/notifications?cursor=WyJ4IiwieSJd",
        "/api/notifications?unread=maybe",
    ):
        response = await client.get(path, headers=customer.headers)
        assert response.status_code == 422, path
    bad_id = await client.post("/api/notifications/not-a-uuid/read", headers=customer.headers)
    assert bad_id.status_code == 422
    unknown = await client.post(f"/api/notifications/{uuid.uuid4()}/read", headers=customer.headers)
    assert unknown.status_code == 404
