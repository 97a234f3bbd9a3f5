"""Merging a guest cart at login, and the functions checkout calls (snapshot, empty)."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from elysium.cart.service import checkout_snapshot, empty_cart
from elysium.errors import ValidationFailedError
from elysium.kit.clock import utcnow
from factories import (
    HALF_CARAT,
    HALF_CARAT_KEY,
    ONE_CARAT,
    ONE_CARAT_KEY,
    Account,
    add_line,
    create_product,
    guest,
    stocked_piece,
    update_product,
)


async def _login(client: AsyncClient, account: Account, token: str | None) -> dict[str, str]:
    response = await client.post(
        "/api/auth/login",
        json={"email": account.email, "password": account.password},
        headers=guest(token) if token else {},
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def test_login_merges_the_guest_cart(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app, {HALF_CARAT_KEY: 5, ONE_CARAT_KEY: 5})
    await add_line(client, product, quantity=1, headers=customer.headers)
    token = (await add_line(client, product, quantity=2)).json()["cart_token"]
    engraved = HALF_CARAT | {"engraving": "Yours"}
    await add_line(client, product, engraved, headers=guest(token))
    await add_line(client, product, ONE_CARAT, headers=guest(token))
    headers = await _login(client, customer, token)
    items = (await client.get("/api/cart", headers=headers)).json()["items"]
    assert [(i["configuration"], i["quantity"]) for i in items] == [
        (HALF_CARAT, 3),
        (engraved, 1),
        (ONE_CARAT, 1),
    ]
    assert (await client.get("/api/cart", headers=guest(token))).json()["id"] is None


async def test_merge_respects_the_line_limit_and_bad_tokens_change_nothing(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await create_product(app, made_to_order=True)
    await add_line(client, product, quantity=7, headers=customer.headers)
    token = (await add_line(client, product, quantity=6)).json()["cart_token"]
    await _login(client, customer, "no-such-token")
    headers = await _login(client, customer, token)
    [line] = (await client.get("/api/cart", headers=headers)).json()["items"]
    assert line["quantity"] == 10


async def test_merge_creates_the_users_cart_when_they_have_none(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await create_product(app, made_to_order=True)
    token = (await add_line(client, product, quantity=2)).json()["cart_token"]
    headers = await _login(client, customer, token)
    [line] = (await client.get("/api/cart", headers=headers)).json()["items"]
    assert line["quantity"] == 2


async def test_checkout_snapshot_prices_every_line(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    await update_product(app, product, collection_slug="bridal")
    await add_line(client, product, quantity=2, headers=customer.headers)
    await add_line(client, product, HALF_CARAT | {"engraving": "Ada"}, headers=customer.headers)
    async with app.state.sessionmaker() as session, session.begin():
        snapshot = await checkout_snapshot(session, uuid.UUID(customer.id))
        assert snapshot.subtotal_pence == 2 * 240_000 + 249_500
        assert snapshot.discount is None
        assert snapshot.coupon_code is None
        first = snapshot.lines[0]
        assert (first.product_slug, first.variant_key, first.quantity) == (
            product.slug,
            HALF_CARAT_KEY,
            2,
        )
        assert (first.unit_price_pence, first.line_total_pence) == (240_000, 480_000)
        assert first.collection_slug == "bridal"
        assert first.made_to_order is False
        assert snapshot.lines[1].configuration["engraving"] == "Ada"
        await empty_cart(session, snapshot.cart_id)
    assert (await client.get("/api/cart", headers=customer.headers)).json()["items"] == []
    async with app.state.sessionmaker() as session, session.begin():
        with pytest.raises(ValidationFailedError, match="empty"):
            await checkout_snapshot(session, uuid.UUID(customer.id))


async def test_checkout_snapshot_names_a_vanished_line(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    other = await create_product(app, made_to_order=True)
    await add_line(client, other, headers=customer.headers)
    await add_line(client, product, headers=customer.headers)
    await update_product(app, product, deleted_at=utcnow())
    async with app.state.sessionmaker() as session, session.begin():
        with pytest.raises(ValidationFailedError) as caught:
            await checkout_snapshot(session, uuid.UUID(customer.id))
    assert caught.value.errors[0]["field"] == "items.1"
    assert product.title in caught.value.detail
