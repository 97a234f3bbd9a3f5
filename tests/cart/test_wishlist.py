"""The wishlist: one entry per piece, optional configuration, current prices."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from elysium.kit.clock import utcnow
from factories import (
    HALF_CARAT,
    HALF_CARAT_KEY,
    Account,
    make_account,
    stocked_piece,
    update_product,
)


async def test_wishlist_needs_sign_in(client: AsyncClient) -> None:
    assert (await client.get("/api/wishlist")).status_code == 401
    assert (await client.post("/api/wishlist", json={"product_slug": "x"})).status_code == 401


async def test_add_update_list_and_remove(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    other = await stocked_piece(app)
    first = await client.post(
        "/api/wishlist", json={"product_slug": product.slug}, headers=customer.headers
    )
    assert first.status_code == 201
    assert first.json()["unit_price"]["amount"] == "2400.00"
    assert first.json()["configuration"] is None
    engraved = HALF_CARAT | {"engraving": "Us"}
    again = await client.post(
        "/api/wishlist",
        json={"product_slug": product.slug, "configuration": engraved},
        headers=customer.headers,
    )
    assert again.status_code == 200
    assert again.json()["variant_key"] == HALF_CARAT_KEY
    assert again.json()["unit_price"]["amount"] == "2495.00"
    await client.post("/api/wishlist", json={"product_slug": other.slug}, headers=customer.headers)
    listed = (await client.get("/api/wishlist", headers=customer.headers)).json()
    assert [i["product_slug"] for i in listed["items"]] == [other.slug, product.slug]
    assert listed["items"][1]["configuration"] == engraved
    assert listed["items"][1]["title"] == product.title
    assert listed["items"][1]["available"] is True
    removed = await client.delete(
        "/api/wishlist", params={"product_slug": product.slug}, headers=customer.headers
    )
    assert removed.status_code == 204
    gone = await client.delete(
        "/api/wishlist", params={"product_slug": product.slug}, headers=customer.headers
    )
    assert gone.status_code == 404
    left = (await client.get("/api/wishlist", headers=customer.headers)).json()["items"]
    assert [i["product_slug"] for i in left] == [other.slug]


async def test_wishlists_are_private_and_paginated(app: FastAPI, client: AsyncClient) -> None:
    products = [await stocked_piece(app) for _ in range(3)]
    owner, stranger = await make_account(app), await make_account(app)
    for product in products:
        body = {"product_slug": product.slug}
        assert (await client.post("/api/wishlist", json=body, headers=owner.headers)).is_success
    assert (await client.get("/api/wishlist", headers=stranger.headers)).json()["items"] == []
    page = (await client.get("/api/wishlist?limit=2", headers=owner.headers)).json()
    rest = await client.get(
        "/api/wishlist", params={"limit": 2, "cursor": page["next_cursor"]}, headers=owner.headers
    )
    slugs = [i["product_slug"] for i in page["items"] + rest.json()["items"]]
    assert slugs == [p.slug for p in reversed(products)]
    assert rest.json()["next_cursor"] is None
    bad = await client.get("/api/wishlist?cursor=bm9wZQ", headers=owner.headers)
    assert bad.status_code == 422


async def test_invalid_configuration_and_unknown_piece(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    bad = await client.post(
        "/api/wishlist",
        json={"product_slug": product.slug, "configuration": {"metal": "tin"}},
        headers=customer.headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "configuration.metal",
        "configuration.carat",
    }
    missing = await client.post(
        "/api/wishlist", json={"product_slug": "no-such-piece"}, headers=customer.headers
    )
    assert missing.status_code == 404


async def test_withdrawn_pieces_stay_listed_and_removable(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await stocked_piece(app)
    body = {"product_slug": product.slug, "configuration": HALF_CARAT}
    await client.post("/api/wishlist", json=body, headers=customer.headers)
    await update_product(app, product, deleted_at=utcnow())
    [item] = (await client.get("/api/wishlist", headers=customer.headers)).json()["items"]
    assert item["available"] is False
    assert item["unit_price"] is None
    removed = await client.delete(
        "/api/wishlist", params={"product_slug": product.slug}, headers=customer.headers
    )
    assert removed.status_code == 204
