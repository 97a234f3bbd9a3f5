"""The wishlist: one entry per piece, optional configuration, current prices."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from cart_helpers import KEY_HALF, PLATINUM_HALF, customer, stocked_product, update_product
from elysium.kit.clock import utcnow


async def test_wishlist_needs_sign_in(client: AsyncClient) -> None:
    assert (await client.get("/api/wishlist")).status_code == 401
    assert (await client.post("/api/wishlist", json={"product_slug": "x"})).status_code == 401


async def test_add_update_list_and_remove(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_product(app, client)
    other = await stocked_product(app, client)
    account = await customer(client)
    first = await client.post(
        "/api/wishlist", json={"product_slug": product.slug}, headers=account.headers
    )
    assert first.status_code == 201
    assert first.json()["unit_price"]["amount"] == "2400.00"
    assert first.json()["configuration"] is None
    engraved = PLATINUM_HALF | {"engraving": "Us"}
    again = await client.post(
        "/api/wishlist",
        json={"product_slug": product.slug, "configuration": engraved},
        headers=account.headers,
    )
    assert again.status_code == 200
    assert again.json()["variant_key"] == KEY_HALF
    assert again.json()["unit_price"]["amount"] == "2495.00"
    await client.post("/api/wishlist", json={"product_slug": other.slug}, headers=account.headers)
    listed = (await client.get("/api/wishlist", headers=account.headers)).json()
    assert [i["product_slug"] for i in listed["items"]] == [other.slug, product.slug]
    assert listed["items"][1]["configuration"] == engraved
    assert listed["items"][1]["title"] == product.title
    assert listed["items"][1]["available"] is True
    removed = await client.delete(
        "/api/wishlist", params={"product_slug": product.slug}, headers=account.headers
    )
    assert removed.status_code == 204
    gone = await client.delete(
        "/api/wishlist", params={"product_slug": product.slug}, headers=account.headers
    )
    assert gone.status_code == 404
    left = (await client.get("/api/wishlist", headers=account.headers)).json()["items"]
    assert [i["product_slug"] for i in left] == [other.slug]


async def test_wishlists_are_private_and_paginated(app: FastAPI, client: AsyncClient) -> None:
    products = [await stocked_product(app, client) for _ in range(3)]
    owner, stranger = await customer(client), await customer(client)
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


async def test_invalid_configuration_and_unknown_piece(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_product(app, client)
    account = await customer(client)
    bad = await client.post(
        "/api/wishlist",
        json={"product_slug": product.slug, "configuration": {"metal": "tin"}},
        headers=account.headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "configuration.metal",
        "configuration.carat",
    }
    missing = await client.post(
        "/api/wishlist", json={"product_slug": "no-such-piece"}, headers=account.headers
    )
    assert missing.status_code == 404


async def test_withdrawn_pieces_stay_listed_and_removable(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_product(app, client)
    account = await customer(client)
    body = {"product_slug": product.slug, "configuration": PLATINUM_HALF}
    await client.post("/api/wishlist", json=body, headers=account.headers)
    await update_product(app, product, deleted_at=utcnow())
    [item] = (await client.get("/api/wishlist", headers=account.headers)).json()["items"]
    assert item["available"] is False
    assert item["unit_price"] is None
    removed = await client.delete(
        "/api/wishlist", params={"product_slug": product.slug}, headers=account.headers
    )
    assert removed.status_code == 204
