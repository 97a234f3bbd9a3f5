"""SQL statements per request on the hot paths, pinned exactly (Saleor's `count_queries` idea).

Each test builds its data first, then counts only what the one measured request sends. A
failure lists every statement; an extra round trip is a regression to remove, and a deliberate
change is re-pinned here (the number in the assertion) with the reason in the commit message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from factories import (
    HALF_CARAT,
    HALF_CARAT_KEY,
    ONE_CARAT,
    ONE_CARAT_KEY,
    Account,
    add_line,
    add_to_cart,
    checkout,
    create_product,
    shopper,
    stocked_piece,
)
from query_counter import Statements, count_statements


async def _measure(app: FastAPI, request: Awaitable[Response]) -> tuple[Response, Statements]:
    """Send one request (a coroutine not yet started) and count what it sends."""
    with count_statements(app) as statements:
        response = await request
    return response, statements


@pytest.fixture
def empty_catalog_cache(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """The catalogue cache, cleared only by the function returned.

    Stock set up by a test sends NOTIFYs that clear the cache whenever they arrive; one landing
    between a cold and a warm read would make the warm one cold.
    """
    cache = app.state.catalog_cache
    assert cache.enabled, "the catalogue cache is off (its LISTEN connection is down)"
    empty: Callable[[], None] = cache.clear
    monkeypatch.setattr(cache, "clear", lambda: None)
    return empty


async def test_signed_in_session_lookup(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    response, sent = await _measure(app, client.get("/api/auth/session", headers=customer.headers))
    assert response.status_code == 200
    assert sent.count == 1, sent.report("GET /api/auth/session", 1)


async def test_reading_a_cart_of_three_lines(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    ring = await stocked_piece(app, {HALF_CARAT_KEY: 5, ONE_CARAT_KEY: 5})
    for product, configuration in (
        (ring, HALF_CARAT),
        (ring, ONE_CARAT),
        (await create_product(app, made_to_order=True), HALF_CARAT),
    ):
        await add_to_cart(client, customer, product, configuration=configuration)
    response, sent = await _measure(app, client.get("/api/cart", headers=customer.headers))
    assert len(response.json()["items"]) == 3
    # the session, then the cart with its lines, their products and their stock in one
    assert sent.count == 2, sent.report("GET /api/cart (3 lines)", 2)


async def test_adding_a_line_to_a_cart(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    ring, band = await stocked_piece(app), await stocked_piece(app)
    await add_to_cart(client, customer, ring)
    response, sent = await _measure(app, add_line(client, band, headers=customer.headers))
    assert response.status_code == 201, response.text
    assert len(response.json()["items"]) == 2
    # 8, plus 3 for the write limit that now holds for signed-in clients too (issue 11: lock
    # the keys, count them, record the write; atomic, in its own short transaction). The
    # priced cart it answers with reads its lines with their products and stock in one.
    assert sent.count == 11, sent.report("POST /api/cart (a second, stock-limited line)", 11)


async def test_listing_products_cold_and_cached(
    app: FastAPI, client: AsyncClient, empty_catalog_cache: Callable[[], None]
) -> None:
    for _ in range(2):
        await stocked_piece(app)
    await create_product(app, made_to_order=True)
    empty_catalog_cache()
    cold, sent = await _measure(app, client.get("/api/products"))
    assert len(cold.json()["items"]) == 3
    assert sent.count == 2, sent.report("GET /api/products (cache empty)", 2)
    warm, sent = await _measure(app, client.get("/api/products"))
    assert warm.json() == cold.json()
    assert sent.count == 0, sent.report("GET /api/products (cached)", 0)


async def test_pricing_a_configuration_cold_and_cached(
    app: FastAPI, client: AsyncClient, empty_catalog_cache: Callable[[], None]
) -> None:
    ring = await stocked_piece(app)
    path, body = f"/api/products/{ring.slug}/price", {"configuration": HALF_CARAT}
    empty_catalog_cache()
    cold, sent = await _measure(app, client.post(path, json=body))
    assert cold.json()["available"] is True
    assert sent.count == 2, sent.report("POST /api/products/{slug}/price (cache empty)", 2)
    warm, sent = await _measure(app, client.post(path, json=body))
    assert warm.json() == cold.json()
    # the product's price spec is cached; its stock is always read live
    assert sent.count == 1, sent.report("POST /api/products/{slug}/price (cached)", 1)


async def test_checking_out_two_lines_by_bank_transfer(app: FastAPI, client: AsyncClient) -> None:
    ring, band = await stocked_piece(app), await stocked_piece(app)
    who = await shopper(app, client, ring)
    await add_to_cart(client, who.account, band)
    response, sent = await _measure(app, checkout(client, who))
    assert response.status_code == 201, response.text
    assert response.json()["payment"]["provider"] == "bank_transfer"
    assert len(response.json()["order"]["items"]) == 2
    # Today each stock-limited line costs two statements: its reservation and its stock move.
    assert sent.count == 20, sent.report("POST /api/checkout (2 lines, bank transfer)", 20)
