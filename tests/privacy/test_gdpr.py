"""GDPR export and erasure through HTTP."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from elysium.models import Address, Order, OrderReturn, SentEmail, User
from elysium.privacy.service import EXPORTERS
from factories import (
    Account,
    add_address,
    checkout,
    make_account,
    placed_order,
    shopper,
    stocked_piece,
)


async def test_export_contains_every_section(client: AsyncClient, customer: Account) -> None:
    await add_address(client, customer)
    response = await client.get("/api/user/export", headers=customer.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(EXPORTERS) <= set(body)
    assert body["account"]["email"] == customer.email
    assert body["addresses"][0]["line1"] == "1 Bond Street"
    assert any(event["action"] == "auth.sign_in" for event in body["audit_events"])


async def test_export_needs_sign_in(client: AsyncClient) -> None:
    assert (await client.get("/api/user/export")).status_code == 401


async def test_erasure_anonymises_and_signs_out(
    client: AsyncClient, app: FastAPI, customer: Account
) -> None:
    await add_address(client, customer)
    response = await client.delete("/api/user", headers=customer.headers)
    assert response.status_code == 204
    assert (await client.get("/api/auth/session", headers=customer.headers)).status_code == 401
    login = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    assert login.status_code == 401
    async with app.state.sessionmaker() as session:
        user = await session.get(User, uuid.UUID(customer.id))
        addresses = await session.scalar(select(func.count()).select_from(Address))
    assert user is not None
    assert user.email.endswith("@erased.invalid")
    assert user.name is None
    assert user.deleted_at is not None
    assert addresses == 0


async def test_the_email_can_register_again_after_erasure(
    client: AsyncClient, customer: Account
) -> None:
    await client.delete("/api/user", headers=customer.headers)
    again = await client.post(
        "/api/auth/register", json={"email": customer.email, "password": customer.password}
    )
    assert again.status_code == 201


async def test_erasure_keeps_orders_without_the_person(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app, level=2)
    who = await shopper(app, client, product)
    order = await placed_order(client, who)
    export = (await client.get("/api/user/export", headers=who.headers)).json()
    assert [o["order_number"] for o in export["orders"]] == [order["order_number"]]
    assert export["orders"][0]["items"][0]["product_slug"] == product.slug

    assert (await client.delete("/api/user", headers=who.headers)).status_code == 204
    async with app.state.sessionmaker() as session:
        kept = await session.get(Order, uuid.UUID(order["id"]))
    assert kept is not None
    assert kept.total_pence > 0
    assert kept.shipping_address == {"country": "GB", "erased": True}
    assert kept.billing_address == {"country": "GB", "erased": True}


async def test_export_and_erasure_cover_gift_messages_and_returns(
    app: FastAPI, client: AsyncClient
) -> None:
    staff = await make_account(app, "staff")
    product = await stocked_piece(app, level=2)
    who = await shopper(app, client, product)
    response = await checkout(client, who, gift_message="For Grace, with love")
    order = response.json()["order"]
    for target in ("PAID", "FULFILLED", "SHIPPED", "DELIVERED"):
        await client.put(
            f"/api/orders/{order['id']}/status", json={"status": target}, headers=staff.headers
        )
    line = {"order_item_id": order["items"][0]["id"], "quantity": 1}
    body = {"lines": [line], "reason": "My partner Grace prefers gold"}
    made = await client.post(f"/api/orders/{order['id']}/returns", json=body, headers=who.headers)
    assert made.status_code == 201, made.text
    export = (await client.get("/api/user/export", headers=who.headers)).json()
    [exported] = export["orders"]
    assert exported["gift_message"] == "For Grace, with love"
    assert exported["invoice_number"].startswith("INV-")
    assert exported["returns"][0]["reason"] == "My partner Grace prefers gold"
    assert exported["returns"][0]["lines"][0]["quantity"] == 1

    assert (await client.delete("/api/user", headers=who.headers)).status_code == 204
    async with app.state.sessionmaker() as session:
        kept = await session.get(Order, uuid.UUID(order["id"]))
        reasons = list(await session.scalars(select(OrderReturn.reason)))
        attachments = list(
            await session.scalars(
                select(SentEmail.attachments).where(SentEmail.template == "order_confirmation")
            )
        )
    assert kept is not None
    assert (kept.gift_message, kept.invoice_number) == (None, exported["invoice_number"])
    assert reasons == ["[erased]"]
    assert attachments == [None]
