"""Merging a guest cart at login, and the functions checkout calls (snapshot, empty)."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from cart_helpers import (
    KEY_HALF,
    PLATINUM_HALF,
    PLATINUM_ONE,
    add,
    customer,
    guest,
    stocked_product,
    update_product,
)
from elysium.cart.service import checkout_snapshot, empty_cart
from elysium.errors import ValidationFailedError
from elysium.kit.clock import utcnow
from factories import Account, create_product


async def _login(client: AsyncClient, account: Account, token: str | None) -> dict[str, str]:
    response = await client.post(
        "/api/auth/login",
        json={"email": account.email, "password": account.password},
        headers=guest(token) if token else {},
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def test_login_merges_the_guest_cart(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_product(app, client)
    account = await customer(client)
    await add(client, product, quantity=1, headers=account.headers)
    token = (await add(client, product, quantity=2)).json()["cart_token"]
    engraved = PLATINUM_HALF | {"engraving": "Yours"}
    await add(client, product, engraved, headers=guest(token))
    await add(client, product, PLATINUM_ONE, headers=guest(token))
    headers = await _login(client, account, token)
    items = (await client.get("/api/cart", headers=headers)).json()["items"]
    assert [(i["configuration"], i["quantity"]) for i in items] == [
        (PLATINUM_HALF, 3),
        (engraved, 1),
        (PLATINUM_ONE, 1),
    ]
    assert (await client.get("/api/cart", headers=guest(token))).json()["id"] is None


async def test_merge_respects_the_line_limit_and_bad_tokens_change_nothing(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await create_product(app, made_to_order=True)
    account = await customer(client)
    await add(client, product, quantity=7, headers=account.headers)
    token = (await add(client, product, quantity=6)).json()["cart_token"]
    await _login(client, account, "no-such-token")
    headers = await _login(client, account, token)
    [line] = (await client.get("/api/cart", headers=headers)).json()["items"]
    assert line["quantity"] == 10


async def test_merge_creates_the_users_cart_when_they_have_none(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await create_product(app, made_to_order=True)
    account = await customer(client)
    token = (await add(client, product, quantity=2)).json()["cart_token"]
    headers = await _login(client, account, token)
    [line] = (await client.get("/api/cart", headers=headers)).json()["items"]
    assert line["quantity"] == 2


async def test_checkout_snapshot_prices_every_line(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_product(app, client)
    await update_product(app, product, collection_slug="bridal")
    account = await customer(client)
    await add(client, product, quantity=2, headers=account.headers)
    await add(client, product, PLATINUM_HALF | {"engraving": "Ada"}, headers=account.headers)
    async with app.state.sessionmaker() as session, session.begin():
        snapshot = await checkout_snapshot(session, uuid.UUID(account.id))
        assert snapshot.subtotal_pence == 2 * 240_000 + 249_500
        assert snapshot.discount is None
        assert snapshot.coupon_code is None
        first = snapshot.lines[0]
        assert (first.product_slug, first.variant_key, first.quantity) == (
            product.slug,
            KEY_HALF,
            2,
        )
        assert (first.unit_price_pence, first.line_total_pence) == (240_000, 480_000)
        assert first.collection_slug == "bridal"
        assert first.made_to_order is False
        assert snapshot.lines[1].configuration["engraving"] == "Ada"
        await empty_cart(session, snapshot.cart_id)
    assert (await client.get("/api/cart", headers=account.headers)).json()["items"] == []
    async with app.state.sessionmaker() as session, session.begin():
        with pytest.raises(ValidationFailedError, match="empty"):
            await checkout_snapshot(session, uuid.UUID(account.id))


async def test_checkout_snapshot_names_a_vanished_line(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_product(app, client)
    other = await create_product(app, made_to_order=True)
    account = await customer(client)
    await add(client, other, headers=account.headers)
    await add(client, product, headers=account.headers)
    await update_product(app, product, deleted_at=utcnow())
    async with app.state.sessionmaker() as session, session.begin():
        with pytest.raises(ValidationFailedError) as caught:
            await checkout_snapshot(session, uuid.UUID(account.id))
    assert caught.value.errors[0]["field"] == "items.1"
    assert product.title in caught.value.detail
