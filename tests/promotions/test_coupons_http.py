"""Coupons through HTTP: staff administration and applying codes to carts."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from elysium.kit.clock import utcnow
from elysium.models import AuditEvent
from elysium.promotions.service import redeem_coupon, release_coupon
from factories import (
    HALF_CARAT,
    Account,
    add_line,
    create_product,
    guest,
    make_account,
    stocked_piece,
    update_product,
)


async def make_coupon(client: AsyncClient, staff: Account, **fields: Any) -> dict[str, Any]:
    body = {"code": f"C{uuid.uuid4().hex[:8]}", "kind": "fixed", "amount": _gbp("100.00")}
    response = await client.post("/api/admin/coupons", json=body | fields, headers=staff.headers)
    assert response.status_code == 201, response.text
    coupon: dict[str, Any] = response.json()
    return coupon


def _gbp(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "GBP"}


async def _apply(client: AsyncClient, code: str, headers: dict[str, str]) -> Any:
    return await client.post("/api/cart/coupon", json={"code": code}, headers=headers)


async def test_staff_create_list_and_deactivate_coupons(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    coupon = await make_coupon(client, staff, code="welcome-10", description="Welcome")
    assert coupon["code"] == "WELCOME-10"
    assert coupon["amount"] == _gbp("100.00")
    assert coupon["redemptions"] == 0
    duplicate = await client.post(
        "/api/admin/coupons",
        json={"code": "Welcome-10", "kind": "percentage", "percent": 5},
        headers=staff.headers,
    )
    assert duplicate.status_code == 409
    listed = (await client.get("/api/admin/coupons", headers=staff.headers)).json()
    assert [c["code"] for c in listed["items"]] == ["WELCOME-10"]
    off = await client.post(f"/api/admin/coupons/{coupon['id']}/deactivate", headers=staff.headers)
    assert off.status_code == 200
    assert off.json()["active"] is False
    async with app.state.sessionmaker() as session:
        actions = set(await session.scalars(select(AuditEvent.action)))
    assert {"coupon.created", "coupon.deactivated"} <= actions


async def test_coupon_admin_is_for_staff_and_validates(
    app: FastAPI, client: AsyncClient, staff: Account, customer: Account
) -> None:
    body = {"code": "NOPE1", "kind": "fixed", "amount": _gbp("10.00")}
    assert (await client.post("/api/admin/coupons", json=body)).status_code == 401
    forbidden = await client.post("/api/admin/coupons", json=body, headers=customer.headers)
    assert forbidden.status_code == 403
    for bad in (
        {"code": "X1Y", "kind": "percentage", "percent": 101},
        {"code": "X1Y", "kind": "percentage", "amount": _gbp("1.00")},
        {"code": "X1Y", "kind": "fixed", "amount": _gbp("0.00")},
        {"code": "no spaces", "kind": "fixed", "amount": _gbp("1.00")},
        {"code": "X1Y", "kind": "fixed", "amount": _gbp("1.00"), "starts_at": "2026-01-01T00:00"},
    ):
        response = await client.post("/api/admin/coupons", json=bad, headers=staff.headers)
        assert response.status_code == 422, bad


async def _cart(app: FastAPI, client: AsyncClient, quantity: int = 1) -> tuple[Account, str]:
    product = await stocked_piece(app)
    account = await make_account(app)
    await add_line(client, product, quantity=quantity, headers=account.headers)
    return account, product.slug


async def test_fixed_coupon_any_letter_case(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    await make_coupon(client, staff, code="GIFT100")
    account, _ = await _cart(app, client)
    response = await _apply(client, "  gift100 ", account.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["coupon_code"] == "GIFT100"
    assert body["discount"] == _gbp("100.00")
    assert body["total"] == _gbp("2300.00")
    removed = await client.delete("/api/cart/coupon", headers=account.headers)
    assert removed.json()["coupon_code"] is None
    assert removed.json()["discount"] == _gbp("0.00")


async def test_guest_can_apply_a_coupon(app: FastAPI, client: AsyncClient, staff: Account) -> None:
    await make_coupon(client, staff, code="GUEST5", kind="percentage", percent=5, amount=None)
    product = await create_product(app, made_to_order=True)
    token = (await add_line(client, product)).json()["cart_token"]
    response = await _apply(client, "guest5", guest(token))
    assert response.json()["discount"] == _gbp("120.00")


async def test_percentage_rounds_half_up_to_the_penny(
    app: FastAPI, client: AsyncClient, staff: Account, customer: Account
) -> None:
    await make_coupon(client, staff, code="TEN", kind="percentage", percent=10, amount=None)
    product = await create_product(app, made_to_order=True)
    await update_product(app, product, base_price_pence=12_345)
    await add_line(client, product, headers=customer.headers)
    body = (await _apply(client, "TEN", customer.headers)).json()
    assert body["discount"] == _gbp("12.35")
    assert body["total"] == _gbp("111.10")


async def test_fixed_discount_never_exceeds_the_subtotal(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    await make_coupon(client, staff, code="HUGE", amount=_gbp("99999.00"))
    account, _ = await _cart(app, client)
    body = (await _apply(client, "HUGE", account.headers)).json()
    assert body["discount"] == _gbp("2400.00")
    assert body["total"] == _gbp("0.00")


async def test_unknown_code_is_422_naming_the_field(app: FastAPI, client: AsyncClient) -> None:
    account, _ = await _cart(app, client)
    response = await _apply(client, "NO-SUCH-CODE", account.headers)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "code", "message": "This code is not recognised or not applicable."}
    ]
    assert (await client.get("/api/cart", headers=account.headers)).json()["coupon_code"] is None


async def test_minimum_spend(app: FastAPI, client: AsyncClient, staff: Account) -> None:
    await make_coupon(client, staff, code="BIGSPEND", min_subtotal=_gbp("4000.00"))
    account, slug = await _cart(app, client)
    short = await _apply(client, "BIGSPEND", account.headers)
    assert short.status_code == 422
    assert "4000.00" in short.json()["detail"]
    body = {"product_slug": slug, "configuration": HALF_CARAT, "quantity": 1}
    await client.post("/api/cart", json=body, headers=account.headers)
    applied = await _apply(client, "BIGSPEND", account.headers)
    assert applied.json()["discount"] == _gbp("100.00")
    line = applied.json()["items"][0]["id"]
    smaller = await client.put(f"/api/cart/{line}", json={"quantity": 1}, headers=account.headers)
    assert smaller.json()["discount"] == _gbp("0.00")
    assert "4000.00" in smaller.json()["coupon_problem"]


async def test_validity_window_and_deactivation(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    now = utcnow()
    await make_coupon(client, staff, code="SOON", starts_at=(now + timedelta(days=1)).isoformat())
    await make_coupon(
        client,
        staff,
        code="GONE",
        starts_at=(now - timedelta(days=2)).isoformat(),
        ends_at=(now - timedelta(days=1)).isoformat(),
    )
    off = await make_coupon(client, staff, code="OFF")
    await client.post(f"/api/admin/coupons/{off['id']}/deactivate", headers=staff.headers)
    account, _ = await _cart(app, client)
    unknown = (await _apply(client, "NEVER-ISSUED", account.headers)).json()
    for code in ("SOON", "GONE", "OFF"):
        refused = await _apply(client, code, account.headers)
        assert refused.status_code == 422
        # The same answer as an invented code: guessing cannot tell a real one.
        assert refused.json()["detail"] == unknown["detail"]
        assert refused.json()["errors"] == unknown["errors"]


async def test_collection_restriction(
    app: FastAPI, client: AsyncClient, staff: Account, customer: Account
) -> None:
    await make_coupon(
        client,
        staff,
        code="BRIDAL",
        kind="percentage",
        percent=50,
        amount=None,
        collection_slugs=["bridal"],
    )
    fine = await create_product(app, made_to_order=True)
    bridal = await create_product(app, made_to_order=True)
    await update_product(app, fine, collection_slug="fine")
    await update_product(app, bridal, collection_slug="bridal", base_price_pence=100_000)
    await add_line(client, fine, headers=customer.headers)
    refused = await _apply(client, "BRIDAL", customer.headers)
    assert refused.status_code == 422
    assert "does not apply" in refused.json()["detail"]
    await add_line(client, bridal, headers=customer.headers)
    body = (await _apply(client, "BRIDAL", customer.headers)).json()
    assert body["discount"] == _gbp("500.00")
    assert body["total"] == _gbp("2900.00")


async def test_total_usage_limit_and_release(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    coupon = await make_coupon(client, staff, code="ONCE", max_redemptions=1)
    account, _ = await _cart(app, client)
    order_id = uuid.uuid4()
    async with app.state.sessionmaker() as session, session.begin():
        await redeem_coupon(session, uuid.UUID(coupon["id"]), user_id=None, order_id=order_id)
    used_up = await _apply(client, "ONCE", account.headers)
    assert used_up.status_code == 422
    assert "fully redeemed" in used_up.json()["detail"]
    async with app.state.sessionmaker() as session, session.begin():
        await release_coupon(session, order_id=order_id)
        await release_coupon(session, order_id=order_id)
    assert (await _apply(client, "ONCE", account.headers)).status_code == 200


async def test_per_customer_limit(app: FastAPI, client: AsyncClient, staff: Account) -> None:
    coupon = await make_coupon(client, staff, code="MINE", max_per_customer=1)
    first, _ = await _cart(app, client)
    second, _ = await _cart(app, client)
    async with app.state.sessionmaker() as session, session.begin():
        await redeem_coupon(
            session, uuid.UUID(coupon["id"]), user_id=uuid.UUID(first.id), order_id=uuid.uuid4()
        )
    refused = await _apply(client, "MINE", first.headers)
    assert refused.status_code == 422
    assert "already used" in refused.json()["detail"]
    assert (await _apply(client, "MINE", second.headers)).status_code == 200
