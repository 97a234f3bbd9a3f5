"""Zero-rated exports: delivery outside the UK VAT area is charged net of VAT, line by line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import given
from hypothesis import strategies as st

from elysium.kit.vat import VatTreatment, charged, net_of_vat, treatment_for
from elysium.orders.totals import order_totals
from factories import Account, add_address, add_to_cart, checkout, shopper, stocked_piece


def _gbp(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "GBP"}


async def _coupon(client: AsyncClient, admin: Account, code: str, **fields: Any) -> None:
    body = {"code": code, "kind": "fixed", "amount": _gbp("120.00")} | fields
    response = await client.post("/api/admin/coupons", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text


def _money(body: dict[str, Any], *keys: str) -> tuple[str, ...]:
    return tuple(body[k]["amount"] for k in keys)


async def test_the_cart_previews_the_treatment_of_a_destination(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product, quantity=2)
    home = (await client.get("/api/cart", headers=who.headers)).json()
    paris = (await client.get("/api/cart?country=fr", headers=who.headers)).json()
    jersey = (await client.get("/api/cart?country=JE", headers=who.headers)).json()
    man = (await client.get("/api/cart?country=IM", headers=who.headers)).json()
    bad = await client.get("/api/cart?country=France", headers=who.headers)
    assert home["vat_treatment"] == man["vat_treatment"] == "standard"
    assert _money(home, "subtotal", "shipping", "vat", "total") == (
        "4800.00",
        "0.00",
        "800.00",
        "4800.00",
    )
    assert paris["vat_treatment"] == jersey["vat_treatment"] == "zero_rated_export"
    assert paris["items"][0]["unit_price"]["amount"] == "2000.00"
    assert _money(paris, "subtotal", "shipping", "vat", "total") == (
        "4000.00",
        "79.17",
        "0.00",
        "4079.17",
    )
    # The Isle of Man is in the UK VAT area but outside next-day reach: courier £95, VAT on all.
    assert _money(man, "shipping", "vat") == ("95.00", "815.83")
    assert bad.status_code == 422


async def test_checkout_to_france_charges_net_and_records_the_treatment(
    app: FastAPI, client: AsyncClient, admin: Account
) -> None:
    await _coupon(client, admin, "EXPORT120")
    product = await stocked_piece(app, level=5)
    who = await shopper(app, client, product, quantity=3)
    assert (
        await client.post("/api/cart/coupon", json={"code": "export120"}, headers=who.headers)
    ).status_code == 200
    paris = await add_address(client, who.account, country="FR")
    response = await checkout(client, who, shipping_address_id=paris)
    assert response.status_code == 201, response.text
    order = response.json()["order"]
    # Each amount on its own: 2400 -> 2000.00, the £120 coupon -> 100.00, £95 -> 79.17.
    assert order["items"][0]["unit_price"]["amount"] == "2000.00"
    assert _money(order, "subtotal", "discount", "shipping", "vat", "total") == (
        "6000.00",
        "100.00",
        "79.17",
        "0.00",
        "5979.17",
    )
    assert (order["vat_treatment"], order["vat_rate"]) == ("zero_rated_export", 0)
    fetched = (await client.get(f"/api/orders/{order['id']}", headers=who.headers)).json()
    assert fetched["total"] == order["total"]
    assert fetched["payments_due"] == [
        {"kind": "full", "amount": _gbp("5979.17"), "paid": _gbp("0.00"), "due": "now"}
    ]


async def test_a_uk_order_keeps_standard_vat(
    app: FastAPI, client: AsyncClient, admin: Account
) -> None:
    await _coupon(client, admin, "HOME120")
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    await client.post("/api/cart/coupon", json={"code": "HOME120"}, headers=who.headers)
    order = (await checkout(client, who)).json()["order"]
    assert _money(order, "subtotal", "discount", "shipping", "vat", "total") == (
        "2400.00",
        "120.00",
        "0.00",
        "380.00",
        "2280.00",
    )
    assert (order["vat_treatment"], order["vat_rate"]) == ("standard", 20)


async def test_coupon_limits_follow_the_export_rule(
    app: FastAPI, client: AsyncClient, admin: Account
) -> None:
    # The minimum (a UK price) is compared net for an export: £2,400 ≥ £2,400, and
    # £2,000.00 net ≥ £2,000.00 net; a £2,400.01 minimum fails both.
    await _coupon(client, admin, "MIN2400", min_subtotal=_gbp("2400.00"))
    await _coupon(client, admin, "MIN240001", min_subtotal=_gbp("2400.01"))
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    await client.post("/api/cart/coupon", json={"code": "MIN2400"}, headers=who.headers)
    paris = (await client.get("/api/cart?country=FR", headers=who.headers)).json()
    assert (paris["coupon_problem"], paris["discount"]["amount"]) == (None, "100.00")
    refused = await client.post("/api/cart/coupon", json={"code": "MIN240001"}, headers=who.headers)
    assert refused.status_code == 422
    assert "2400.01" in refused.json()["detail"]


async def test_an_export_coupon_worth_more_than_the_cart_is_capped(
    app: FastAPI, client: AsyncClient, admin: Account
) -> None:
    await _coupon(client, admin, "ALLOFIT", kind="percentage", percent=100, amount=None)
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    await add_to_cart(client, who.account, product)
    await client.post("/api/cart/coupon", json={"code": "ALLOFIT"}, headers=who.headers)
    paris = await add_address(client, who.account, country="FR")
    response = await checkout(client, who, shipping_address_id=paris)
    assert response.status_code == 201, response.text
    order = response.json()["order"]
    assert _money(order, "subtotal", "discount", "total") == ("4000.00", "4000.00", "79.17")


# --- arithmetic -------------------------------------------------------------------------------

lines = st.lists(
    st.tuples(st.integers(min_value=0, max_value=10**8), st.integers(min_value=1, max_value=10)),
    min_size=1,
    max_size=8,
)


def _exact_net(gross: int) -> int:
    return int((Decimal(gross) * 100 / 120).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(st.integers(min_value=0, max_value=10**12))
def test_net_of_vat_is_gross_over_1_2_rounded_half_up(gross: int) -> None:
    assert net_of_vat(gross) == _exact_net(gross)
    assert charged(gross, VatTreatment.STANDARD) == gross


@given(lines, st.data(), st.integers(min_value=0, max_value=10**6))
def test_the_export_total_never_exceeds_the_uk_total_and_removes_its_vat(
    cart: list[tuple[int, int]], data: st.DataObject, shipping: int
) -> None:
    """Priced as checkout prices: each unit price, the discount and the shipping charged on
    their own, then `order_totals`."""
    uk_subtotal = sum(unit * qty for unit, qty in cart)
    discount = data.draw(st.integers(min_value=0, max_value=uk_subtotal))
    export = VatTreatment.ZERO_RATED_EXPORT
    uk = order_totals(uk_subtotal, discount, shipping)
    net = order_totals(
        sum(charged(unit, export) * qty for unit, qty in cart),
        charged(discount, export),
        charged(shipping, export),
        export,
    )
    assert net.total_pence <= uk.total_pence
    assert net.vat_pence == 0
    removed = uk.total_pence - net.total_pence
    units = sum(qty for _, qty in cart)
    assert abs(removed - uk.vat_pence) <= units + 2  # a penny per unit, discount, shipping


def test_the_uk_vat_area_is_gb_and_the_isle_of_man() -> None:
    assert {c: treatment_for(c) for c in ("GB", "IM", "JE", "GG", "GI", "FR", "US")} == {
        "GB": "standard",
        "IM": "standard",
        "JE": "zero_rated_export",
        "GG": "zero_rated_export",
        "GI": "zero_rated_export",
        "FR": "zero_rated_export",
        "US": "zero_rated_export",
    }
