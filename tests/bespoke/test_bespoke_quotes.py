"""Bespoke quotes become made-to-order orders paid in two instalments (deposit, balance)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from fastapi import FastAPI
from httpx import AsyncClient, Response
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from elysium.bespoke.quotes import deposit_of
from elysium.kit.clock import utcnow
from elysium.models import BespokeQuote, Order, SentEmail
from elysium.models.order import OrderPaymentStatus, OrderStatus
from elysium.orders.schedule import amount_due
from factories import Account, make_account, queued_emails

PRICE = {"amount": "12000.00", "currency": "GBP"}


def _gbp(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "GBP"}


async def _enquiry(client: AsyncClient, email: str) -> dict[str, Any]:
    body = {
        "name": "Ada Client",
        "email": email,
        "piece_type": "engagement ring",
        "notes": "An oval sapphire on a platinum band.",
    }
    response = await client.post("/api/bespoke", json=body)
    assert response.status_code == 201, response.text
    enquiry: dict[str, Any] = response.json()
    return enquiry


async def _quote(
    client: AsyncClient, staff: Account, enquiry_id: str, days: int = 14, percent: int = 30
) -> dict[str, Any]:
    body = {
        "description": "Platinum ring, 1.2 ct oval sapphire",
        "price": PRICE,
        "deposit_percent": percent,
        "valid_until": (utcnow() + timedelta(days=days)).isoformat(),
    }
    response = await client.post(
        f"/api/bespoke/{enquiry_id}/quotes", json=body, headers=staff.headers
    )
    assert response.status_code == 201, response.text
    quote: dict[str, Any] = response.json()
    return quote


async def _token(app: FastAPI, quote_id: str) -> str:
    """The token from the link emailed with the quote."""
    for email in await queued_emails(app, "bespoke_quote"):
        assert email.context is not None
        url = urlparse(email.context["accept_url"])
        if url.path.endswith(quote_id):
            return str(parse_qs(url.query)["token"][0])
    raise AssertionError("no quote email")


async def _accept(client: AsyncClient, quote_id: str, **kwargs: Any) -> Response:
    return await client.post(f"/api/bespoke/quotes/{quote_id}/accept", **kwargs)


async def _pay(
    client: AsyncClient, staff: Account, order_id: str, amount: str, reference: str
) -> Response:
    body = {"amount": _gbp(amount), "reference": reference}
    return await client.post(f"/api/orders/{order_id}/payments", json=body, headers=staff.headers)


async def _status(client: AsyncClient, staff: Account, order_id: str, status: str) -> Response:
    return await client.put(
        f"/api/orders/{order_id}/status", json={"status": status}, headers=staff.headers
    )


async def _accepted_order(
    app: FastAPI, client: AsyncClient, staff: Account
) -> tuple[Account, dict[str, Any]]:
    client_account = await make_account(app)
    enquiry = await _enquiry(client, client_account.email)
    quote = await _quote(client, staff, enquiry["id"])
    response = await _accept(client, quote["id"], json={"token": await _token(app, quote["id"])})
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return client_account, order


async def test_a_quote_is_emailed_and_accepted_by_its_link_as_a_made_to_order_order(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    client_account = await make_account(app)
    enquiry = await _enquiry(client, client_account.email)
    quote = await _quote(client, staff, enquiry["id"])
    assert (quote["status"], quote["deposit"], quote["balance"]) == (
        "sent",
        _gbp("3600.00"),
        _gbp("8400.00"),
    )
    seen = (await client.get(f"/api/bespoke/{enquiry['id']}", headers=staff.headers)).json()
    assert seen["status"] == "quoted"
    response = await _accept(client, quote["id"], json={"token": await _token(app, quote["id"])})
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["payment_status"]) == ("PENDING", "unpaid")
    assert order["total"] == PRICE
    assert order["vat"] == _gbp("2000.00")
    [line] = order["items"]
    assert line["made_to_order"] is True
    assert order["payments_due"] == [
        {"kind": "deposit", "amount": _gbp("3600.00"), "paid": _gbp("0.00"), "due": "now"},
        {
            "kind": "balance",
            "amount": _gbp("8400.00"),
            "paid": _gbp("0.00"),
            "due": "before_shipping",
        },
    ]
    mine = await client.get(f"/api/orders/{order['id']}", headers=client_account.headers)
    assert mine.status_code == 200
    again = await _accept(client, quote["id"], json={"token": await _token(app, quote["id"])})
    assert again.status_code == 409
    seen = (await client.get(f"/api/bespoke/{enquiry['id']}", headers=staff.headers)).json()
    assert seen["status"] == "won"


async def test_deposit_then_balance_by_bank_transfer_and_no_shipping_before_the_balance(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    client_account, order = await _accepted_order(app, client, staff)
    order_id = order["id"]
    wrong = await _pay(client, staff, order_id, "1000.00", "DEP-1")
    assert wrong.status_code == 422
    assert "3600.00" in wrong.json()["detail"]
    deposit = await _pay(client, staff, order_id, "3600.00", "DEP-1")
    assert deposit.status_code == 201, deposit.text
    body = deposit.json()
    assert (body["status"], body["payment_status"]) == ("PAID", "deposit_paid")
    assert [d["paid"]["amount"] for d in body["payments_due"]] == ["3600.00", "0.00"]
    assert body["invoice_number"] is None
    repeat = await _pay(client, staff, order_id, "3600.00", "DEP-1")
    assert repeat.json()["payment_status"] == "deposit_paid"
    assert (await _status(client, staff, order_id, "FULFILLED")).status_code == 200
    blocked = await _status(client, staff, order_id, "SHIPPED")
    assert blocked.status_code == 409
    assert "balance" in blocked.json()["detail"]
    invoice = await client.get(f"/api/orders/{order_id}/invoice", headers=client_account.headers)
    assert invoice.status_code == 404
    balance = await _pay(client, staff, order_id, "8400.00", "BAL-1")
    assert balance.status_code == 201, balance.text
    body = balance.json()
    assert (body["status"], body["payment_status"]) == ("FULFILLED", "paid")
    assert [d["paid"]["amount"] for d in body["payments_due"]] == ["3600.00", "8400.00"]
    assert body["invoice_number"].startswith("INV-")
    assert (await _status(client, staff, order_id, "SHIPPED")).status_code == 200
    nothing = await _pay(client, staff, order_id, "1.00", "EXTRA")
    assert nothing.status_code == 409
    async with app.state.sessionmaker() as session:
        templates = list(
            await session.scalars(
                select(SentEmail.template).where(SentEmail.to == client_account.email)
            )
        )
    assert templates.count("payment_received") == 1
    assert templates.count("order_confirmation") == 1


async def test_staff_marking_paid_settles_the_balance(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    _, order = await _accepted_order(app, client, staff)
    await _pay(client, staff, order["id"], "3600.00", "DEP-1")
    response = await _status(client, staff, order["id"], "PAID")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["payment_status"]) == ("PAID", "paid")
    assert body["payment"]["status"] == "succeeded"


async def test_refunds_are_limited_to_what_was_paid(
    app: FastAPI, client: AsyncClient, staff: Account, admin: Account
) -> None:
    _, order = await _accepted_order(app, client, staff)
    await _pay(client, staff, order["id"], "3600.00", "DEP-1")
    url = f"/api/orders/{order['id']}/refund"

    async def refund(amount: str, key: str) -> Response:
        body = {"amount": _gbp(amount), "reason": "Commission cancelled"}
        return await client.post(url, json=body, headers=admin.headers | {"Idempotency-Key": key})

    assert (await refund("3600.01", "r1")).status_code == 409
    done = await refund("3600.00", "r2")
    assert done.status_code == 201, done.text
    assert (done.json()["order_status"], done.json()["payment_status"]) == ("REFUNDED", "refunded")


async def test_a_paid_in_full_bespoke_order_refunds_across_both_instalments(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    client_account, order = await _accepted_order(app, client, staff)
    await _pay(client, staff, order["id"], "3600.00", "DEP-1")
    await _pay(client, staff, order["id"], "8400.00", "BAL-1")
    cancelled = await client.post(
        f"/api/orders/{order['id']}/cancel", headers=client_account.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["payment_status"]) == ("CANCELLED", "refunded")


async def test_who_may_accept_and_which_quotes_cannot_be(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    client_account = await make_account(app)
    enquiry = await _enquiry(client, client_account.email)
    first = await _quote(client, staff, enquiry["id"])
    second = await _quote(client, staff, enquiry["id"], days=1)
    superseded = await _accept(client, first["id"], json={"token": await _token(app, first["id"])})
    assert superseded.status_code == 409
    assert superseded.json()["quote_status"] == "superseded"
    assert (await _accept(client, second["id"], json={"token": "guess"})).status_code == 404
    assert (await _accept(client, second["id"])).status_code == 404
    stranger = await make_account(app)
    assert (await _accept(client, second["id"], headers=stranger.headers)).status_code == 404
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(BespokeQuote)
            .where(BespokeQuote.id == uuid.UUID(second["id"]))
            .values(valid_until=utcnow() - timedelta(minutes=1))
        )
    expired = await _accept(client, second["id"], headers=client_account.headers)
    assert expired.status_code == 409
    assert expired.json()["quote_status"] == "expired"
    third = await _quote(client, staff, enquiry["id"])
    signed_in = await _accept(client, third["id"], headers=client_account.headers)
    assert signed_in.status_code == 201, signed_in.text
    listed = (
        await client.get(f"/api/bespoke/{enquiry['id']}/quotes", headers=staff.headers)
    ).json()
    assert [q["status"] for q in listed] == ["superseded", "superseded", "accepted"]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(BespokeQuote)) == 3


async def test_quotes_need_staff_and_sensible_values(
    app: FastAPI, client: AsyncClient, staff: Account, customer: Account
) -> None:
    enquiry = await _enquiry(client, "someone@example.com")
    url = f"/api/bespoke/{enquiry['id']}/quotes"
    body = {
        "description": "A ring",
        "price": PRICE,
        "deposit_percent": 30,
        "valid_until": (utcnow() + timedelta(days=3)).isoformat(),
    }
    assert (await client.post(url, json=body, headers=customer.headers)).status_code == 403
    for bad in (
        {"deposit_percent": 0},
        {"price": _gbp("0.00")},
        {"valid_until": (utcnow() - timedelta(days=1)).isoformat()},
    ):
        response = await client.post(url, json=body | bad, headers=staff.headers)
        assert response.status_code == 422, bad
    missing = f"/api/bespoke/{uuid.uuid4()}/quotes"
    assert (await client.post(missing, json=body, headers=staff.headers)).status_code == 404
    quote = (await client.post(url, json=body, headers=staff.headers)).json()
    no_account = await _accept(client, quote["id"], json={"token": await _token(app, quote["id"])})
    assert no_account.status_code == 409
    assert "create an account" in no_account.json()["detail"]


# --- the schedule's arithmetic --------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=100))
def test_deposit_and_balance_add_up_and_are_due_in_turn(price: int, percent: int) -> None:
    deposit = deposit_of(price, percent)
    assert 0 < deposit <= price
    assert abs(deposit * 100 - price * percent) <= 50 or deposit == 1  # half up, to the penny
    order = Order(
        status=OrderStatus.PENDING,
        payment_status=OrderPaymentStatus.UNPAID,
        total_pence=price,
        deposit_pence=deposit,
    )
    assert amount_due(order) == deposit
    order.status, order.payment_status = OrderStatus.PAID, OrderPaymentStatus.DEPOSIT_PAID
    assert amount_due(order) + deposit == price
    order.payment_status = OrderPaymentStatus.PAID
    assert amount_due(order) == 0
