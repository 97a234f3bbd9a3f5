"""POST /api/checkout: server-side prices, addresses, shipping, stock, idempotency."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from elysium.models import Order, SentEmail, StockItem
from factories import (
    HALF_CARAT_KEY,
    Account,
    add_address,
    add_to_cart,
    checkout,
    placed_order,
    shopper,
    stocked_piece,
)


async def _orders(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Order)) or 0)


async def _stock(app: FastAPI, product_id: uuid.UUID, key: str = HALF_CARAT_KEY) -> StockItem:
    async with app.state.sessionmaker() as session:
        item: StockItem | None = await session.scalar(
            select(StockItem).where(
                StockItem.product_id == product_id, StockItem.variant_key == key
            )
        )
    assert item is not None
    return item


async def test_checkout_snapshots_the_priced_cart_and_reserves_stock(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app, level=5)
    who = await shopper(app, client, product, quantity=2)
    response = await checkout(client, who)
    assert response.status_code == 201, response.text
    order, payment = response.json()["order"], response.json()["payment"]
    assert re.fullmatch(r"ELY-\d{4}-\d{6}", order["order_number"])
    assert (order["status"], order["payment_status"]) == ("PENDING", "unpaid")
    money = {k: order[k]["amount"] for k in ("subtotal", "discount", "shipping", "vat", "total")}
    assert money == {
        "subtotal": "4800.00",
        "discount": "0.00",
        "shipping": "0.00",
        "vat": "800.00",
        "total": "4800.00",
    }
    [line] = order["items"]
    assert (line["variant_key"], line["quantity"], line["unit_price"]["amount"]) == (
        HALF_CARAT_KEY,
        2,
        "2400.00",
    )
    assert order["shipping_address"]["postal_code"] == "W1S 1AA"
    assert [h["status"] for h in order["status_history"]] == ["PENDING"]
    assert payment["provider"] == "bank_transfer"
    assert payment["instructions"]["reference"] == order["order_number"]
    assert (await _stock(app, product.id)).reserved == 2
    cart = (await client.get("/api/cart", headers=who.headers)).json()
    assert cart["items"] == []


async def test_order_numbers_are_unique_and_sequential(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app, level=5)
    numbers = [
        (await placed_order(client, await shopper(app, client, product)))["order_number"]
        for _ in range(3)
    ]
    assert len(set(numbers)) == 3
    assert sorted(numbers) == numbers


async def test_bank_transfer_instructions_are_emailed(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    await placed_order(client, who)
    async with app.state.sessionmaker() as session:
        templates = list(
            await session.scalars(
                select(SentEmail.template).where(SentEmail.to == who.account.email)
            )
        )
    assert templates.count("bank_transfer_instructions") == 1
    assert "order_confirmation" not in templates  # sent once the money arrives


async def test_international_courier_is_95_pounds_charged_net_as_an_export(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    paris = await add_address(client, who.account, country="FR")
    response = await checkout(client, who, shipping_address_id=paris)
    order = response.json()["order"]
    assert response.status_code == 201, response.text
    assert order["shipping_method"] == "international_courier"
    # £95 and £2,400 are UK prices including VAT: a zero-rated export pays them net.
    assert (order["shipping"]["amount"], order["total"]["amount"]) == ("79.17", "2079.17")
    assert (order["vat"]["amount"], order["vat_treatment"], order["vat_rate"]) == (
        "0.00",
        "zero_rated_export",
        0,
    )


async def test_shipping_method_must_suit_the_address(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    paris = await add_address(client, who.account, country="FR")
    abroad = await checkout(client, who, shipping_address_id=paris, shipping_method="uk_next_day")
    home = await checkout(client, who, shipping_method="international_courier")
    unknown = await checkout(client, who, shipping_method="teleport")
    assert abroad.status_code == home.status_code == unknown.status_code == 422
    assert abroad.json()["errors"][0]["field"] == "shipping_method"
    collect = await checkout(
        client, who, shipping_address_id=paris, shipping_method="atelier_collection"
    )
    assert collect.status_code == 201
    assert collect.json()["order"]["shipping"]["amount"] == "0.00"


async def test_bad_requests_are_refused_without_an_order(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    stranger = await shopper(app, client)
    body = {"shipping_address_id": who.address_id, "billing_address_id": who.address_id}
    no_key = await client.post("/api/checkout", json=body, headers=who.headers)
    price_sent = await checkout(client, who, total={"amount": "1.00", "currency": "GBP"})
    foreign = await checkout(client, who, shipping_address_id=stranger.address_id)
    empty = await checkout(client, stranger)
    anonymous = await client.post("/api/checkout", json=body, headers={"Idempotency-Key": "k"})
    assert [no_key.status_code, price_sent.status_code, foreign.status_code] == [422, 422, 404]
    assert (empty.status_code, anonymous.status_code) == (422, 401)
    assert empty.headers["content-type"] == "application/problem+json"
    assert await _orders(app) == 0


async def test_out_of_stock_is_409_listing_lines_and_holds_nothing(
    app: FastAPI, client: AsyncClient
) -> None:
    plenty = await stocked_piece(app, level=5)
    scarce = await stocked_piece(app, level=1)
    who = await shopper(app, client, plenty, quantity=1)
    await add_to_cart(client, who.account, scarce, quantity=1)
    other = await shopper(app, client, scarce)
    await placed_order(client, other)  # takes the last piece
    response = await checkout(client, who)
    assert response.status_code == 409, response.text
    problem: dict[str, Any] = response.json()
    assert [line["product_slug"] for line in problem["lines"]] == [scarce.slug]
    assert (await _stock(app, plenty.id)).reserved == 0
    assert await _orders(app) == 1
    cart = (await client.get("/api/cart", headers=who.headers)).json()
    assert len(cart["items"]) == 2


async def test_same_key_replays_and_a_different_body_is_409(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    first = await checkout(client, who, key="order-once")
    again = await checkout(client, who, key="order-once")
    changed = await checkout(client, who, key="order-once", shipping_method="atelier_collection")
    assert first.status_code == again.status_code == 201
    assert again.json()["order"] == first.json()["order"]
    assert again.json()["payment"]["instructions"] == first.json()["payment"]["instructions"]
    assert changed.status_code == 409
    assert await _orders(app) == 1


async def test_coupon_discount_is_applied_and_redeemed(
    app: FastAPI, client: AsyncClient, admin: Account
) -> None:
    coupon = {"code": "SPARKLE", "kind": "percentage", "percent": 10, "max_redemptions": 1}
    created = await client.post("/api/admin/coupons", json=coupon, headers=admin.headers)
    assert created.status_code == 201, created.text
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    applied = await client.post("/api/cart/coupon", json={"code": "sparkle"}, headers=who.headers)
    assert applied.status_code == 200, applied.text
    order = await placed_order(client, who)
    assert (order["discount"]["amount"], order["total"]["amount"]) == ("240.00", "2160.00")
    assert (order["vat"]["amount"], order["coupon_code"]) == ("360.00", "SPARKLE")
    listed = (await client.get("/api/admin/coupons", headers=admin.headers)).json()["items"]
    assert listed[0]["redemptions"] == 1
