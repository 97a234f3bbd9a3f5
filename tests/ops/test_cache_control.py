"""Answers carrying tokens or personal data say `Cache-Control: no-store`; the public
catalogue read anonymously stays cacheable."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient, Response

from factories import (
    HALF_CARAT,
    Account,
    add_address,
    add_line,
    guest,
    stocked_piece,
    unique_email,
)


def no_store(response: Response) -> bool:
    return str(response.headers.get("cache-control")) == "no-store"


async def test_sign_in_and_account_answers_are_not_stored(
    client: AsyncClient, customer: Account
) -> None:
    login = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    assert login.status_code == 200
    assert no_store(login)
    await add_address(client, customer)
    for path in ("/api/auth/session", "/api/user/profile", "/api/user/addresses"):
        response = await client.get(path, headers=customer.headers)
        assert response.status_code == 200, path
        assert no_store(response), path
    export = await client.get("/api/user/export", headers=customer.headers)
    assert no_store(export)
    reset = await client.post("/api/auth/password-reset", json={"email": unique_email()})
    assert no_store(reset)


async def test_a_session_cookie_or_a_cart_token_makes_any_answer_private(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    client.cookies.set(app.state.settings.session_cookie_name, customer.token)
    assert no_store(await client.get("/api/products"))
    client.cookies.clear()
    cart = await add_line(client, product, HALF_CARAT, 1, {})
    assert cart.status_code == 201, cart.text
    assert no_store(cart)
    assert no_store(await client.get("/api/products", headers=guest(cart.json()["cart_token"])))


async def test_the_catalogue_read_anonymously_stays_publicly_cacheable(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    await stocked_piece(app)
    anonymous = await client.get("/api/products")
    assert anonymous.headers["cache-control"] == "public, max-age=60"
    signed_in = await client.get("/api/products", headers=customer.headers)
    assert no_store(signed_in)
