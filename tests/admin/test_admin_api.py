"""The staff JSON API: GET /api/admin/orders, GET/PATCH /api/admin/customers[/{id}]."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from back_office import audit_actions, new_order
from elysium.kit.clock import london_date, utcnow
from elysium.models import Order, User
from factories import Account, make_account


async def test_orders_are_searched_filtered_and_paged(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    orders = [await new_order(app, client) for _ in range(3)]
    forty_days_ago = utcnow() - timedelta(days=40)
    await client.put(
        f"/api/orders/{orders[0]['id']}/status", json={"status": "PAID"}, headers=staff.headers
    )
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Order).where(Order.id == orders[2]["id"]).values(created_at=forty_days_ago)
        )
    url = "/api/admin/orders"
    first = await client.get(url, params={"limit": 2}, headers=staff.headers)
    assert first.status_code == 200
    body = first.json()
    assert [o["order_number"] for o in body["items"]] == [
        orders[1]["order_number"],
        orders[0]["order_number"],
    ]
    assert body["items"][0]["customer_email"] == orders[1]["customer"].email
    assert body["items"][0]["total"] == {"amount": "2400.00", "currency": "GBP"}
    rest = await client.get(
        url, params={"limit": 2, "cursor": body["next_cursor"]}, headers=staff.headers
    )
    assert [o["order_number"] for o in rest.json()["items"]] == [orders[2]["order_number"]]
    assert rest.json()["next_cursor"] is None

    async def numbers(**params: str) -> list[str]:
        response = await client.get(url, params=params, headers=staff.headers)
        assert response.status_code == 200, response.text
        return [o["order_number"] for o in response.json()["items"]]

    assert await numbers(status="PAID") == [orders[0]["order_number"]]
    assert await numbers(payment_status="unpaid") == [
        orders[1]["order_number"],
        orders[2]["order_number"],
    ]
    assert await numbers(q=orders[2]["customer"].email) == [orders[2]["order_number"]]
    assert await numbers(q=orders[1]["order_number"].lower()) == [orders[1]["order_number"]]
    # The filter's dates are London days (an evening in BST is the next day there).
    old_day = london_date(forty_days_ago).isoformat()
    assert await numbers(**{"from": old_day, "to": old_day}) == [orders[2]["order_number"]]
    assert len(await numbers(sort="total_asc")) == 3


async def test_orders_api_refuses_bad_input_and_non_staff(
    app: FastAPI, client: AsyncClient, staff: Account, customer: Account
) -> None:
    url = "/api/admin/orders"
    for params in (
        {"status": "SHINY"},
        {"from": "2026-13-01"},
        {"from": "2026-12-02", "to": "2026-12-01"},
        {"cursor": "bm9wZQ"},
        {"limit": "0"},
    ):
        response = await client.get(url, params=params, headers=staff.headers)
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("application/problem+json")
    newest = await client.get(url, params={"limit": 1}, headers=staff.headers)
    assert newest.status_code == 200
    assert (await client.get(url, headers=customer.headers)).status_code == 403
    assert (await client.get(url)).status_code == 401


async def test_customers_are_listed_read_and_patched(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    order = await new_order(app, client)
    who: Account = order["customer"]
    listed = await client.get(
        "/api/admin/customers", params={"q": who.email[:12]}, headers=staff.headers
    )
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == [who.id]
    detail = await client.get(f"/api/admin/customers/{who.id}", headers=staff.headers)
    assert detail.status_code == 200
    body = detail.json()
    assert body["email"] == who.email
    assert body["order_count"] == 1
    assert body["orders"][0]["order_number"] == order["order_number"]
    assert body["lifetime_spend"] == {"amount": "0.00", "currency": "GBP"}  # not paid yet
    assert body["addresses"][0]["line1"] == "1 Bond Street"

    suspended = await client.patch(
        f"/api/admin/customers/{who.id}", json={"is_active": False}, headers=staff.headers
    )
    assert suspended.status_code == 200
    assert suspended.json()["is_active"] is False
    assert (await client.get("/api/auth/session", headers=who.headers)).status_code == 401
    assert ("user.suspended", staff.id) in await audit_actions(app, who.id)

    promote = await client.patch(
        f"/api/admin/customers/{who.id}", json={"role": "staff"}, headers=staff.headers
    )
    assert promote.status_code == 403
    async with app.state.sessionmaker() as session:
        user = await session.get(User, who.id)
    assert user is not None
    assert user.role == "customer"
    unknown = await client.patch(
        f"/api/admin/customers/{who.id}", json={"is_active": True, "x": 1}, headers=staff.headers
    )
    assert unknown.status_code == 422
    missing = "/api/admin/customers/00000000-0000-0000-0000-000000000000"
    assert (await client.get(missing, headers=staff.headers)).status_code == 404


async def test_admins_change_roles_with_the_last_admin_rule(
    app: FastAPI, client: AsyncClient, admin: Account
) -> None:
    who = await make_account(app)
    promoted = await client.patch(
        f"/api/admin/customers/{who.id}", json={"role": "staff"}, headers=admin.headers
    )
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "staff"
    last = await client.patch(
        f"/api/admin/customers/{admin.id}", json={"role": "customer"}, headers=admin.headers
    )
    assert last.status_code == 409
    assert last.headers["content-type"].startswith("application/problem+json")


async def test_customer_list_refuses_customers(client: AsyncClient, customer: Account) -> None:
    response = await client.get("/api/admin/customers", headers=customer.headers)
    assert response.status_code == 403
    assert (await client.get("/api/admin/customers")).status_code == 401


async def test_the_staff_api_is_in_the_openapi_document(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    orders = paths["/api/admin/orders"]["get"]
    assert {p["name"] for p in orders["parameters"]} >= {
        "q",
        "status",
        "payment_status",
        "from",
        "to",
        "limit",
        "cursor",
    }
    assert "200" in orders["responses"]
    assert "schema" in orders["responses"]["200"]["content"]["application/json"]
    assert "get" in paths["/api/admin/customers"]
    assert {"get", "patch"} <= set(paths["/api/admin/customers/{customer_id}"])
    assert not any(path.startswith("/admin") for path in paths)
