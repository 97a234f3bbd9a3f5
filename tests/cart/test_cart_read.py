"""Reading the cart (`GET /api/cart`): one statement for the cart, its lines and their stock,
prices remembered per product revision, never beyond it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from elysium.kit.clock import utcnow
from elysium.kit.tokens import hash_token
from elysium.models import Cart
from factories import (
    HALF_CARAT_KEY,
    Account,
    add_line,
    add_to_cart,
    guest,
    make_account,
    set_stock,
    stocked_piece,
    update_product,
)


async def test_a_remembered_price_gives_way_to_the_next_revision(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    await add_to_cart(client, customer, product, quantity=2)
    before = (await client.get("/api/cart", headers=customer.headers)).json()
    assert before["items"][0]["unit_price"]["amount"] == "2400.00"
    await update_product(app, product, base_price_pence=255_000)
    after = (await client.get("/api/cart", headers=customer.headers)).json()
    assert after["items"][0]["unit_price"]["amount"] == "2550.00"
    assert after["subtotal"]["amount"] == "5100.00"
    assert after["total"]["amount"] == "5100.00"


async def test_withdrawing_a_piece_shows_at_once_even_without_a_new_revision(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    rev = f"rev-{uuid.uuid4().hex}"
    await update_product(app, product, rev=rev)
    await add_to_cart(client, customer, product)
    priced = (await client.get("/api/cart", headers=customer.headers)).json()
    assert priced["items"][0]["available"] is True
    await update_product(app, product, published=False, rev=rev)
    [line] = (await client.get("/api/cart", headers=customer.headers)).json()["items"]
    assert line["available"] is False
    assert line["unit_price"] is None
    assert line["problem"] == "This piece is no longer offered."


async def test_a_variant_renamed_by_the_catalogue_is_checked_against_its_own_stock(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    """The line was stored as the platinum 0.50 ct variant (5 in stock); once carat is no
    longer an inventory option the same configuration is the `metal=platinum` variant, whose
    stock is what counts."""
    product = await stocked_piece(app, {HALF_CARAT_KEY: 5})
    await add_to_cart(client, customer, product, quantity=2)
    await update_product(app, product, inventory_options=["metal"])
    [line] = (await client.get("/api/cart", headers=customer.headers)).json()["items"]
    assert line["variant_key"] == "metal=platinum"
    assert line["available"] is False
    assert line["problem"] == "Only 0 available."
    await set_stock(app, product, {"metal=platinum": 2})
    [line] = (await client.get("/api/cart", headers=customer.headers)).json()["items"]
    assert line["available"] is True
    assert line["problem"] is None


async def test_an_emptied_cart_keeps_its_id_and_an_expired_guest_cart_reads_as_none(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app)
    created = (await add_line(client, product)).json()
    token, cart_id = created["cart_token"], created["id"]
    assert (await client.delete("/api/cart", headers=guest(token))).status_code == 200
    emptied = (await client.get("/api/cart", headers=guest(token))).json()
    assert emptied["id"] == cart_id
    assert emptied["items"] == []
    assert emptied["subtotal"]["amount"] == "0.00"
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Cart)
            .where(Cart.token_hash == hash_token(token))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    expired = (await client.get("/api/cart", headers=guest(token))).json()
    assert expired["id"] is None
    assert expired["items"] == []


async def test_concurrent_reads_each_see_their_own_cart_and_a_signed_out_token_none(
    app: FastAPI, client: AsyncClient
) -> None:
    """Reads made at once share one token lookup (accounts.service.SignedInCallers) and one
    cart statement per kind of owner (cart.pricing.CartReads): each signed-in shopper and
    each guest still gets their own cart; a signed-out token or an unknown cart token, none."""
    product = await stocked_piece(app)
    shoppers = [await make_account(app) for _ in range(3)]
    for n, shopper in enumerate(shoppers):
        await add_to_cart(client, shopper, product, quantity=n + 1)
    gone = await make_account(app)
    await add_to_cart(client, gone, product)
    signed_out = await client.post("/api/auth/logout", headers=gone.headers)
    assert signed_out.status_code == 204, signed_out.text
    guests = [(await add_line(client, product, quantity=n + 1)).json() for n in range(2)]
    readers: list[tuple[dict[str, str], int | None]] = [
        *((shopper.headers, n + 1) for n, shopper in enumerate(shoppers)),
        (gone.headers, None),
        *((guest(cart["cart_token"]), n + 1) for n, cart in enumerate(guests)),
        (guest("no-such-cart-token-0123456789"), None),
    ] * 3
    carts = await asyncio.gather(*(client.get("/api/cart", headers=h) for h, _ in readers))
    for (_, quantity), cart in zip(readers, carts, strict=True):
        assert cart.status_code == 200, cart.text
        if quantity is None:
            assert cart.json()["items"] == []
            assert cart.json()["id"] is None
        else:
            [line] = cart.json()["items"]
            assert line["quantity"] == quantity
