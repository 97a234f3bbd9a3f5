"""The cart through HTTP: guest tokens, lines, limits, stock, read-time pricing, ownership."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from httpx import AsyncClient

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
    make_account,
    set_stock,
    stocked_piece,
    update_product,
)

BOTH_CARATS = {HALF_CARAT_KEY: 5, ONE_CARAT_KEY: 5}


async def test_first_guest_write_issues_a_token_in_body_and_header(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app)
    response = await add_line(client, product, quantity=2)
    assert response.status_code == 201
    body = response.json()
    token = body["cart_token"]
    assert token
    assert response.headers["x-cart-token"] == token
    [line] = body["items"]
    assert line["product_slug"] == product.slug
    assert line["variant_key"] == HALF_CARAT_KEY
    assert line["unit_price"] == {"amount": "2400.00", "currency": "GBP"}
    assert line["line_total"]["amount"] == "4800.00"
    assert line["available"] is True
    assert body["subtotal"]["amount"] == body["total"]["amount"] == "4800.00"
    assert body["shipping"]["amount"] == body["discount"]["amount"] == "0.00"
    again = await client.get("/api/cart", headers=guest(token))
    assert again.json()["id"] == body["id"]
    assert again.json()["cart_token"] is None
    assert (await client.get("/api/cart")).json() == again.json() | {
        "id": None,
        "items": [],
        "subtotal": again.json()["discount"],
        "total": again.json()["discount"],
        "vat": again.json()["discount"],
    }


async def test_token_is_not_reissued_and_unknown_token_starts_a_new_cart(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app, BOTH_CARATS)
    token = (await add_line(client, product)).json()["cart_token"]
    second = await add_line(client, product, ONE_CARAT, headers=guest(token))
    assert second.status_code == 201
    assert second.json()["cart_token"] is None
    assert "x-cart-token" not in second.headers
    assert len(second.json()["items"]) == 2
    fresh = await add_line(client, product, headers=guest("not-a-real-token"))
    assert fresh.json()["cart_token"] not in (None, token)
    assert len(fresh.json()["items"]) == 1


async def test_same_configuration_adds_up_and_engraving_makes_a_new_line(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app)
    token = (await add_line(client, product, quantity=2)).json()["cart_token"]
    reordered = {"carat": "0.50", "metal": "platinum", "engraving": "  "}
    body = (await add_line(client, product, reordered, quantity=1, headers=guest(token))).json()
    [line] = body["items"]
    assert line["quantity"] == 3
    engraved = HALF_CARAT | {"engraving": "Forever"}
    body = (await add_line(client, product, engraved, headers=guest(token))).json()
    assert [item["quantity"] for item in body["items"]] == [3, 1]
    assert body["items"][1]["configuration"]["engraving"] == "Forever"
    assert body["items"][1]["unit_price"]["amount"] == "2495.00"
    assert body["subtotal"]["amount"] == "9695.00"


async def test_invalid_configuration_is_422_naming_the_option(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app)
    response = await add_line(client, product, {"metal": "tin", "carat": "0.50"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["configuration.metal"]
    missing = await add_line(client, product, {"metal": "platinum"})
    assert [e["field"] for e in missing.json()["errors"]] == ["configuration.carat"]
    unknown = await client.post("/api/cart", json={"product_slug": "no-such-piece"})
    assert unknown.status_code == 404
    assert (await client.get("/api/cart")).json()["id"] is None


async def test_quantity_limits(app: FastAPI, client: AsyncClient) -> None:
    product = await create_product(app, made_to_order=True)
    for quantity in (0, 11, -1):
        response = await add_line(client, product, quantity=quantity)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "quantity"
    token = (await add_line(client, product, quantity=8)).json()["cart_token"]
    over = await add_line(client, product, quantity=3, headers=guest(token))
    assert over.status_code == 422
    assert over.json()["errors"][0]["field"] == "quantity"
    cart = (await client.get("/api/cart", headers=guest(token))).json()
    assert cart["items"][0]["quantity"] == 8


async def test_at_most_fifty_lines(app: FastAPI, client: AsyncClient) -> None:
    product = await create_product(app, made_to_order=True)
    token = (await add_line(client, product, HALF_CARAT | {"engraving": "L0"})).json()["cart_token"]
    for n in range(1, 50):
        config = HALF_CARAT | {"engraving": f"L{n}"}
        assert (await add_line(client, product, config, headers=guest(token))).status_code == 201
    over = await add_line(client, product, HALF_CARAT | {"engraving": "L50"}, headers=guest(token))
    assert over.status_code == 422
    same = await add_line(client, product, HALF_CARAT | {"engraving": "L7"}, headers=guest(token))
    assert same.status_code == 201
    assert len(same.json()["items"]) == 50


async def test_more_than_the_stock_is_409_and_nothing_is_written(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app, {HALF_CARAT_KEY: 2, ONE_CARAT_KEY: 0})
    short = await add_line(client, product, quantity=3)
    assert short.status_code == 409
    assert short.json()["available"] == 2
    assert "x-cart-token" not in short.headers
    token = (await add_line(client, product, quantity=2)).json()["cart_token"]
    engraved = HALF_CARAT | {"engraving": "Ada"}
    same_variant = await add_line(client, product, engraved, headers=guest(token))
    assert same_variant.status_code == 409
    assert (await add_line(client, product, ONE_CARAT, headers=guest(token))).status_code == 409
    cart = (await client.get("/api/cart", headers=guest(token))).json()
    assert [i["quantity"] for i in cart["items"]] == [2]


async def test_made_to_order_pieces_are_always_available(app: FastAPI, client: AsyncClient) -> None:
    product = await create_product(app, made_to_order=True)
    body = (await add_line(client, product, quantity=10)).json()
    assert body["items"][0]["available"] is True


async def test_availability_is_read_now(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app, {HALF_CARAT_KEY: 3})
    token = (await add_line(client, product, quantity=2)).json()["cart_token"]
    await set_stock(app, product, {HALF_CARAT_KEY: 1})
    [line] = (await client.get("/api/cart", headers=guest(token))).json()["items"]
    assert line["available"] is False
    assert "1" in line["problem"]


async def test_lines_are_priced_when_read(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    token = (await add_line(client, product, quantity=2)).json()["cart_token"]
    await update_product(app, product, base_price_pence=260_000)
    body = (await client.get("/api/cart", headers=guest(token))).json()
    assert body["items"][0]["unit_price"]["amount"] == "2600.00"
    assert body["subtotal"]["amount"] == "5200.00"


async def test_a_withdrawn_piece_shows_as_unavailable(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    other = await create_product(app, made_to_order=True)
    token = (await add_line(client, product)).json()["cart_token"]
    await add_line(client, other, headers=guest(token))
    await update_product(app, product, deleted_at=utcnow())
    response = await client.get("/api/cart", headers=guest(token))
    assert response.status_code == 200
    gone, kept = response.json()["items"]
    assert gone["available"] is False
    assert gone["unit_price"] is None
    assert gone["line_total"] is None
    assert gone["problem"]
    assert kept["available"] is True
    assert response.json()["subtotal"]["amount"] == "2400.00"


async def test_a_configuration_no_longer_offered_shows_as_unavailable(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await create_product(app, made_to_order=True)
    token = (await add_line(client, product)).json()["cart_token"]
    await update_product(app, product, engraving=None, options=[])
    await update_product(app, product, inventory_options=[])
    [line] = (await client.get("/api/cart", headers=guest(token))).json()["items"]
    assert line["available"] is False
    assert line["unit_price"] is None


async def test_change_quantity_and_remove_lines(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app, {HALF_CARAT_KEY: 4, ONE_CARAT_KEY: 4})
    token = (await add_line(client, product)).json()["cart_token"]
    body = (await add_line(client, product, ONE_CARAT, headers=guest(token))).json()
    first, second = (item["id"] for item in body["items"])
    changed = await client.put(f"/api/cart/{first}", json={"quantity": 4}, headers=guest(token))
    assert changed.status_code == 200
    assert changed.json()["items"][0]["quantity"] == 4
    too_many = await client.put(f"/api/cart/{first}", json={"quantity": 5}, headers=guest(token))
    assert too_many.status_code == 409
    zero = await client.put(f"/api/cart/{first}", json={"quantity": 0}, headers=guest(token))
    assert zero.status_code == 422
    removed = await client.delete(f"/api/cart/{second}", headers=guest(token))
    assert removed.status_code == 200
    assert [i["id"] for i in removed.json()["items"]] == [first]
    emptied = await client.delete("/api/cart", headers=guest(token))
    assert emptied.status_code == 200
    assert emptied.json()["items"] == []
    assert (await client.get("/api/cart", headers=guest(token))).json()["items"] == []


async def test_other_peoples_lines_are_404(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    other = await make_account(app)
    item = (await add_line(client, product, headers=customer.headers)).json()["items"][0]["id"]
    guest_token = (await add_line(client, product)).json()["cart_token"]
    for headers in (other.headers, guest(guest_token), {}):
        put = await client.put(f"/api/cart/{item}", json={"quantity": 2}, headers=headers)
        assert put.status_code == 404
        assert (await client.delete(f"/api/cart/{item}", headers=headers)).status_code == 404
    missing = await client.delete(f"/api/cart/{uuid.uuid4()}", headers=customer.headers)
    assert missing.status_code == 404
    assert (await client.get("/api/cart", headers=customer.headers)).json()["items"][0][
        "quantity"
    ] == 1


async def test_signed_in_users_keep_their_cart_across_sessions(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    created = await add_line(client, product, headers=customer.headers)
    assert created.json()["cart_token"] is None
    assert "x-cart-token" not in created.headers
    login = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    again = (await client.get("/api/cart", headers=headers)).json()
    assert again["id"] == created.json()["id"]
    assert len(again["items"]) == 1
