"""The inventory endpoints: availability, staff stock control, manual holds, low stock, ledger."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from elysium.models import AuditEvent, Product
from factories import (
    HALF_CARAT_KEY,
    ONE_CARAT_KEY,
    Account,
    create_product,
    set_stock,
)
from inventory_helpers import hold, ledger_sums, line, stock_row

ALL_KEYS = [  # in the order the atelier lists the option values
    "carat=0.50;metal=platinum",
    "carat=0.50;metal=18k-yellow-gold",
    "carat=1.00;metal=platinum",
    "carat=1.00;metal=18k-yellow-gold",
]


def stock_url(product: Product, key: str = HALF_CARAT_KEY) -> str:
    return f"/api/inventory/{product.slug}/{quote(key, safe='')}"


async def put_stock(
    client: AsyncClient,
    staff: Account,
    product: Product,
    body: dict[str, Any],
    key: str = HALF_CARAT_KEY,
) -> Any:
    return await client.put(stock_url(product, key), json=body, headers=staff.headers)


def staff_hold(product: Product, quantity: int = 1) -> dict[str, Any]:
    """The body of a staff hold (or release) of the platinum 0.50 ct variant."""
    return {
        "product_slug": product.slug,
        "variant_key": HALF_CARAT_KEY,
        "quantity": quantity,
        "reason": "viewing",
    }


async def test_anyone_sees_availability_per_variant(app: FastAPI, client: AsyncClient) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 2, ONE_CARAT_KEY: 1})
    await hold(app, [line(product, ONE_CARAT_KEY)])
    response = await client.get(f"/api/inventory/{product.slug}")
    assert response.status_code == 200
    body = response.json()
    assert body["product_slug"] == product.slug
    variants = {v["variant_key"]: v for v in body["variants"]}
    assert list(variants) == ALL_KEYS
    assert variants[HALF_CARAT_KEY] == {
        "variant_key": HALF_CARAT_KEY,
        "available": 2,
        "in_stock": True,
    }
    assert variants[ONE_CARAT_KEY] == {
        "variant_key": ONE_CARAT_KEY,
        "available": 0,
        "in_stock": False,
    }
    assert variants[ALL_KEYS[1]]["available"] == 0  # no stock row: nothing available


async def test_staff_also_see_levels_reserved_and_thresholds(
    app: FastAPI, client: AsyncClient, customer: Account, staff: Account
) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 3})
    await hold(app, [line(product, HALF_CARAT_KEY, 2)])
    as_staff = await client.get(f"/api/inventory/{product.slug}", headers=staff.headers)
    variant = next(v for v in as_staff.json()["variants"] if v["variant_key"] == HALF_CARAT_KEY)
    assert variant == {
        "variant_key": HALF_CARAT_KEY,
        "available": 1,
        "in_stock": True,
        "stock_level": 3,
        "reserved": 2,
        "low_stock_threshold": 1,
    }
    as_customer = await client.get(f"/api/inventory/{product.slug}", headers=customer.headers)
    assert "stock_level" not in as_customer.json()["variants"][0]


async def test_made_to_order_pieces_are_always_available(app: FastAPI, client: AsyncClient) -> None:
    product = await create_product(app, made_to_order=True)
    body = (await client.get(f"/api/inventory/{product.slug}")).json()
    assert body["made_to_order"] is True
    assert {(v["available"], v["in_stock"]) for v in body["variants"]} == {(None, True)}


async def test_unknown_product_is_404(client: AsyncClient) -> None:
    response = await client.get("/api/inventory/no-such-piece")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_staff_set_and_adjust_stock_through_the_ledger(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    response = await put_stock(
        client, staff, product, {"stock_level": 5, "reason": "delivery", "low_stock_threshold": 2}
    )
    assert response.status_code == 200, response.text
    assert response.json() | {} == {
        "variant_key": HALF_CARAT_KEY,
        "available": 5,
        "in_stock": True,
        "stock_level": 5,
        "reserved": 0,
        "low_stock_threshold": 2,
    }
    adjusted = await put_stock(client, staff, product, {"adjust": -2, "reason": "damaged"})
    assert adjusted.json()["stock_level"] == 3
    item = await stock_row(app, product)
    assert await ledger_sums(app, item) == (3, 0)
    movements = await client.get(f"/api/inventory/{product.slug}/movements", headers=staff.headers)
    assert [(m["reason"], m["delta"], m["note"]) for m in movements.json()["items"]] == [
        ("adjust", -2, "damaged"),
        ("set", 5, "delivery"),
    ]
    assert movements.json()["items"][0]["actor_id"] == staff.id
    async with app.state.sessionmaker() as session:
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert {"inventory.stock_set", "inventory.stock_adjust"} <= set(actions)


async def test_variant_key_may_come_in_any_order(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    response = await put_stock(
        client, staff, product, {"stock_level": 1, "reason": "count"}, "metal=platinum;carat=0.50"
    )
    assert response.status_code == 200
    assert response.json()["variant_key"] == HALF_CARAT_KEY


async def test_stock_cannot_go_below_what_is_reserved(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 3})
    await hold(app, [line(product, HALF_CARAT_KEY, 2)])
    for body in ({"stock_level": 1, "reason": "count"}, {"adjust": -2, "reason": "lost"}):
        response = await put_stock(client, staff, product, body)
        assert response.status_code == 409
        assert response.json()["reserved"] == 2
    assert (
        await put_stock(client, staff, product, {"adjust": -1, "reason": "x"})
    ).status_code == 200
    item = await stock_row(app, product)
    assert (item.stock_level, item.reserved) == (2, 2)


async def test_adjusting_below_zero_is_refused(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    response = await put_stock(client, staff, product, {"adjust": -1, "reason": "lost"})
    assert response.status_code == 409


async def test_stock_update_bodies_are_validated(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    for body in (
        {"reason": "neither"},
        {"stock_level": 1, "adjust": 1, "reason": "both"},
        {"stock_level": -1, "reason": "negative"},
        {"adjust": 0, "reason": "nothing"},
        {"stock_level": 1},
        {"stock_level": 1, "reason": "   "},
        {"stock_level": 1, "reason": "nul\x00"},
        {"stock_level": 1, "reason": "ok", "extra": True},
        {"stock_level": 10**12, "reason": "huge"},
    ):
        response = await put_stock(client, staff, product, body)
        assert response.status_code == 422, body
    huge = await put_stock(client, staff, product, {"stock_level": 10**6, "reason": "x"})
    assert huge.status_code == 200
    over = await put_stock(client, staff, product, {"adjust": 1, "reason": "over"})
    assert over.status_code == 422


async def test_variant_keys_are_checked_against_the_product(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    body = {"stock_level": 1, "reason": "count"}
    cases = {
        "carat=0.50": 404,  # well formed, but no variant of this product
        "carat=9.99;metal=platinum": 404,
        "colour=red;carat=0.50;metal=platinum": 404,
        "carat=0.50;;metal": 422,  # malformed
        "=": 422,
    }
    for key, status in cases.items():
        response = await put_stock(client, staff, product, body, key)
        assert response.status_code == status, key
    missing = await client.put(
        stock_url(product).replace(product.slug, "nope"), json=body, headers=staff.headers
    )
    assert missing.status_code == 404


async def test_stock_control_is_for_staff(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    product = await create_product(app)
    body = {"stock_level": 1, "reason": "count"}
    assert (await client.put(stock_url(product), json=body)).status_code == 401
    assert (await put_stock(client, customer, product, body)).status_code == 403
    hold_body = staff_hold(product)
    for path in ("/api/inventory/reserve", "/api/inventory/release"):
        response = await client.post(path, json=hold_body, headers=customer.headers)
        assert response.status_code == 403
    for path in ("/api/inventory/low-stock", f"/api/inventory/{product.slug}/movements"):
        assert (await client.get(path, headers=customer.headers)).status_code == 403


async def test_staff_holds_take_and_give_back_units(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 3})
    body = staff_hold(product, quantity=2)
    placed = await client.post("/api/inventory/reserve", json=body, headers=staff.headers)
    assert placed.status_code == 201, placed.text
    assert placed.json()["available"] == 1
    assert placed.json()["quantity"] == 2
    too_many = await client.post("/api/inventory/reserve", json=body, headers=staff.headers)
    assert too_many.status_code == 409
    assert too_many.json()["lines"] == [
        {
            "product_slug": product.slug,
            "variant_key": HALF_CARAT_KEY,
            "requested": 2,
            "available": 1,
        }
    ]
    released = await client.post(
        "/api/inventory/release", json=body | {"quantity": 1}, headers=staff.headers
    )
    assert released.status_code == 200
    assert released.json() == {
        "product_slug": product.slug,
        "variant_key": HALF_CARAT_KEY,
        "released": 1,
        "available": 2,
    }
    more = await client.post("/api/inventory/release", json=body, headers=staff.headers)
    assert more.status_code == 409  # only one unit is still held
    item = await stock_row(app, product)
    assert (item.stock_level, item.reserved) == (3, 1)
    assert await ledger_sums(app, item) == (3, 1)


async def test_staff_holds_expire_after_the_configured_days(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 1})
    body = staff_hold(product)
    placed = (await client.post("/api/inventory/reserve", json=body, headers=staff.headers)).json()
    async with app.state.sessionmaker() as session:
        created = (await session.scalars(select(AuditEvent.occurred_at))).all()[-1]
    from datetime import datetime

    expires = datetime.fromisoformat(placed["expires_at"])
    assert 6.99 < (expires - created).total_seconds() / 86400 < 7.01


async def test_hold_requests_are_validated(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    bespoke = await create_product(app, made_to_order=True)
    good = staff_hold(product)
    cases: list[tuple[dict[str, Any], int]] = [
        (good | {"quantity": 0}, 422),
        (good | {"quantity": 10**9}, 422),
        (good | {"variant_key": "carat=0.50"}, 422),
        (good | {"variant_key": ";;"}, 422),
        (good | {"product_slug": "nope"}, 404),
        (good | {"product_slug": bespoke.slug}, 422),
        ({k: v for k, v in good.items() if k != "reason"}, 422),
    ]
    for body, status in cases:
        response = await client.post("/api/inventory/reserve", json=body, headers=staff.headers)
        assert response.status_code == status, body


async def test_low_stock_lists_variants_at_or_below_threshold(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    ring = await create_product(app, slug="a-ring")
    band = await create_product(app, slug="b-band")
    await set_stock(app, ring, {HALF_CARAT_KEY: 5, ONE_CARAT_KEY: 1})
    await set_stock(app, band, {HALF_CARAT_KEY: 3, ONE_CARAT_KEY: 9})
    await hold(app, [line(band, HALF_CARAT_KEY, 2)])
    first = await client.get("/api/inventory/low-stock?limit=1", headers=staff.headers)
    assert first.status_code == 200
    assert first.json()["items"] == [
        {
            "product_slug": "a-ring",
            "variant_key": ONE_CARAT_KEY,
            "stock_level": 1,
            "reserved": 0,
            "available": 1,
            "low_stock_threshold": 1,
        }
    ]
    cursor = first.json()["next_cursor"]
    second = await client.get(
        f"/api/inventory/low-stock?limit=5&cursor={cursor}", headers=staff.headers
    )
    assert [
        (i["product_slug"], i["variant_key"], i["available"]) for i in second.json()["items"]
    ] == [("b-band", HALF_CARAT_KEY, 1)]
    assert second.json()["next_cursor"] is None
    bad = await client.get("/api/inventory/low-stock?cursor=garbage", headers=staff.headers)
    assert bad.status_code == 422


async def test_movements_page_through_the_ledger(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    for level in (1, 2, 3):
        await put_stock(client, staff, product, {"stock_level": level, "reason": f"count {level}"})
    url = f"/api/inventory/{product.slug}/movements?limit=2"
    first = (await client.get(url, headers=staff.headers)).json()
    assert [m["resulting_stock_level"] for m in first["items"]] == [3, 2]
    second = (
        await client.get(f"{url}&cursor={first['next_cursor']}", headers=staff.headers)
    ).json()
    assert [m["resulting_stock_level"] for m in second["items"]] == [1]
    assert second["next_cursor"] is None


async def test_random_owner_ids_do_not_leak_between_products(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await create_product(app)
    other = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 1})
    await set_stock(app, other, {HALF_CARAT_KEY: 1})
    await hold(app, [line(product)], uuid.uuid4())
    body = (await client.get(f"/api/inventory/{other.slug}")).json()
    assert next(v for v in body["variants"] if v["variant_key"] == HALF_CARAT_KEY)["available"] == 1


async def test_hostile_paths_and_bodies_are_4xx(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await create_product(app)
    body = {"stock_level": 1, "reason": "count"}
    for raw in ("%00", "carat%3D0.50%00%3Bmetal%3Dplatinum", "a/b", "x" * 3000, "%E2%80%AE"):
        url = f"/api/inventory/{product.slug}/{raw}"
        response = await client.put(url, json=body, headers=staff.headers)
        assert 400 <= response.status_code < 500, raw
    for slug in ("%00", "UPPER", "x" * 300):
        assert (await client.get(f"/api/inventory/{slug}")).status_code == 404
    hold_body = {"product_slug": "\x00", "variant_key": "\x00", "quantity": 1, "reason": "x"}
    response = await client.post("/api/inventory/reserve", json=hold_body, headers=staff.headers)
    assert response.status_code == 404
