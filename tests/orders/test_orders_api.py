"""Reading, cancelling, confirming and expiring orders through the API."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update

from elysium.config import Settings
from elysium.jobs import dispose_job_engine
from elysium.kit.clock import utcnow
from elysium.models import Order, Product, SentEmail, StockItem, StockReservation
from elysium.orders.cancel import expire_unpaid_orders
from elysium.orders.tasks import expire_holds
from factories import (
    HALF_CARAT,
    Account,
    Shopper,
    placed_order,
    shopper,
    stocked_piece,
)


async def _stock(app: FastAPI, order: dict[str, Any]) -> tuple[int, int]:
    """(stock_level, reserved) of the order's first line's variant."""
    line = order["items"][0]
    async with app.state.sessionmaker() as session:
        item = await session.scalar(
            select(StockItem)
            .join(Product, Product.id == StockItem.product_id)
            .where(
                Product.slug == line["product_slug"], StockItem.variant_key == line["variant_key"]
            )
        )
    assert item is not None
    return item.stock_level, item.reserved


async def _order_for(app: FastAPI, client: AsyncClient) -> tuple[Shopper, dict[str, Any]]:
    product = await stocked_piece(app, level=3)
    who = await shopper(app, client, product)
    return who, await placed_order(client, who)


async def _templates(app: FastAPI, email: str) -> list[str]:
    async with app.state.sessionmaker() as session:
        return list(await session.scalars(select(SentEmail.template).where(SentEmail.to == email)))


async def test_customers_list_their_own_orders_newest_first(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app, level=5)
    who = await shopper(app, client)
    other = await shopper(app, client, product)
    await placed_order(client, other)
    placed = []
    for _ in range(3):
        response = await client.post(
            "/api/cart",
            json={"product_slug": product.slug, "configuration": HALF_CARAT, "quantity": 1},
            headers=who.headers,
        )
        assert response.status_code == 201
        placed.append((await placed_order(client, who))["id"])
    first = (await client.get("/api/orders?limit=2", headers=who.headers)).json()
    second = (
        await client.get(f"/api/orders?limit=2&cursor={first['next_cursor']}", headers=who.headers)
    ).json()
    assert [o["id"] for o in first["items"] + second["items"]] == placed[::-1]
    assert second["next_cursor"] is None
    assert first["items"][0]["total"] == {"amount": "2400.00", "currency": "GBP"}


async def test_another_customers_order_is_404_but_staff_see_it(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who, order = await _order_for(app, client)
    intruder = await shopper(app, client)
    url = f"/api/orders/{order['id']}"
    assert (await client.get(url, headers=intruder.headers)).status_code == 404
    assert (await client.post(f"{url}/cancel", headers=intruder.headers)).status_code == 404
    seen = await client.get(url, headers=staff.headers)
    assert seen.status_code == 200
    assert seen.json()["order_number"] == order["order_number"]
    malformed = await client.get("/api/orders/not-a-uuid", headers=who.headers)
    assert malformed.status_code == 422


async def test_customer_cancels_a_pending_order_and_stock_comes_back(
    app: FastAPI, client: AsyncClient
) -> None:
    who, order = await _order_for(app, client)
    assert await _stock(app, order) == (3, 1)
    response = await client.post(
        f"/api/orders/{order['id']}/cancel", json={"reason": "Changed my mind"}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "CANCELLED"
    assert body["status_history"][-1]["note"] == "Changed my mind"
    assert await _stock(app, order) == (3, 0)
    again = await client.post(f"/api/orders/{order['id']}/cancel", headers=who.headers)
    assert again.status_code == 409
    assert "order_cancelled" in await _templates(app, who.account.email)


async def test_staff_confirm_a_bank_transfer_and_the_reservation_becomes_a_sale(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who, order = await _order_for(app, client)
    url = f"/api/orders/{order['id']}/status"
    response = await client.put(url, json={"status": "PAID"}, headers=staff.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["payment_status"]) == ("PAID", "paid")
    assert body["payment"]["status"] == "succeeded"
    assert await _stock(app, order) == (2, 0)
    repeat = await client.put(url, json={"status": "PAID"}, headers=staff.headers)
    assert repeat.status_code == 409
    assert await _stock(app, order) == (2, 0)
    assert "order_confirmation" in await _templates(app, who.account.email)


async def test_cancelling_a_paid_bank_order_returns_stock_and_refunds(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who, order = await _order_for(app, client)
    await client.put(
        f"/api/orders/{order['id']}/status", json={"status": "PAID"}, headers=staff.headers
    )
    response = await client.post(f"/api/orders/{order['id']}/cancel", headers=who.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["payment_status"]) == ("CANCELLED", "refunded")
    assert body["payment"]["refunded"]["amount"] == "2400.00"
    assert await _stock(app, order) == (3, 0)


async def test_no_cancelling_after_fulfilment(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who, order = await _order_for(app, client)
    url = f"/api/orders/{order['id']}"
    for status in ("PAID", "FULFILLED"):
        await client.put(f"{url}/status", json={"status": status}, headers=staff.headers)
    assert (await client.post(f"{url}/cancel", headers=who.headers)).status_code == 409
    assert (await client.post(f"{url}/cancel", headers=staff.headers)).status_code == 409


async def test_expired_reservations_cancel_the_order_and_release_stock(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    who, order = await _order_for(app, client)
    _, fresh = await _order_for(app, client)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Order)
            .where(Order.id == order["id"])
            .values(reservation_expires_at=utcnow() - timedelta(seconds=1))
        )
    async with app.state.sessionmaker() as session, session.begin():
        assert await expire_unpaid_orders(session, settings) == 1
    async with app.state.sessionmaker() as session, session.begin():
        assert await expire_unpaid_orders(session, settings) == 0
    got = (await client.get(f"/api/orders/{order['id']}", headers=who.headers)).json()
    assert got["status"] == "CANCELLED"
    last = got["status_history"][-1]
    assert (last["by"], last["note"]) == ("system", "Reservation expired")
    assert await _stock(app, order) == (3, 0)
    assert await _stock(app, fresh) == (3, 1)
    assert "reservation_expired" in await _templates(app, who.account.email)


async def test_an_unpaid_order_never_outlives_its_reservation_by_more_than_one_run(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    """One run of the expiry job closes every unpaid order whose reservation has run out:
    those whose deadline passed, and the owners of the reservations it expires (here one whose
    order row says otherwise), releasing the stock with the history entry and the email."""
    _, due = await _order_for(app, client)
    _, owner_only = await _order_for(app, client)
    _, live = await _order_for(app, client)
    past = utcnow() - timedelta(seconds=1)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Order).where(Order.id == due["id"]).values(reservation_expires_at=past)
        )
        await session.execute(
            update(StockReservation)
            .where(StockReservation.owner_id.in_([due["id"], owner_only["id"]]))
            .values(expires_at=past)
        )
    await expire_holds(timestamp=0)
    await dispose_job_engine()
    for order in (due, owner_only):
        got = (await client.get(f"/api/orders/{order['id']}", headers=staff.headers)).json()
        assert got["status"] == "CANCELLED", order
        last = got["status_history"][-1]
        assert (last["status"], last["by"], last["note"]) == (
            "CANCELLED",
            "system",
            "Reservation expired",
        )
    async with app.state.sessionmaker() as session:
        statuses = dict((await session.execute(select(Order.id, Order.status))).tuples().all())
        held = await session.scalar(select(func.count()).select_from(StockReservation))
        expired_emails = await session.scalar(
            select(func.count())
            .select_from(SentEmail)
            .where(SentEmail.template == "reservation_expired")
        )
    assert statuses[uuid.UUID(live["id"])] == "PENDING"
    assert held == 1  # only the live order's reservation is left
    assert expired_emails == 2
    assert await _stock(app, live) == (3, 1)


async def test_a_refund_in_another_currency_than_the_order_is_refused(
    app: FastAPI, client: AsyncClient, staff: Account, admin: Account
) -> None:
    _, order = await _order_for(app, client)
    await client.put(
        f"/api/orders/{order['id']}/status", json={"status": "PAID"}, headers=staff.headers
    )
    url = f"/api/orders/{order['id']}/refund"
    body: dict[str, Any] = {"amount": {"amount": "1.00", "currency": "USD"}, "reason": "Goodwill"}
    response = await client.post(url, json=body, headers=admin.headers | {"Idempotency-Key": "u1"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "amount.currency"
    got = (await client.get(f"/api/orders/{order['id']}", headers=admin.headers)).json()
    assert got["payment_status"] == "paid"
    body["amount"]["currency"] = "GBP"
    same_key = await client.post(url, json=body, headers=admin.headers | {"Idempotency-Key": "u1"})
    assert same_key.status_code == 201, same_key.text
    assert same_key.json()["amount"] == {"amount": "1.00", "currency": "GBP"}
