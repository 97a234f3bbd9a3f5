"""Card payments end to end against localstripe: checkout, Stripe.js confirmation, signed
webhooks relayed from localstripe's real deliveries, failures, refunds and the races."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from elysium.config import Settings
from elysium.kit.clock import utcnow
from elysium.models import PaymentEvent, Refund, StockItem, StockMovement
from elysium.orders.refund import retry_requested_refunds
from elysium.payments.gateway import PaymentGateway, PaymentIntentResult, PaymentProviderError
from factories import Account, Shopper, make_account, shopper, stocked_piece
from job_helpers import http_peer, run_jobs, settings_env
from peers.localstripe_peer import (
    LocalStripe,
    WebhookReceiver,
    signed_event,
)


async def _checkout(
    app: FastAPI, client: AsyncClient, level: int = 2
) -> tuple[Shopper, dict[str, Any]]:
    product = await stocked_piece(app, level=level)
    who = await shopper(app, client, product)
    response = await client.post(
        "/api/checkout",
        json={"shipping_address_id": who.address_id, "billing_address_id": who.address_id},
        headers=who.headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    return who, response.json()


async def _pay(peer: LocalStripe, intent_id: str, card: str = "pm_card_visa") -> dict[str, Any]:
    return await asyncio.to_thread(peer.confirm_with_card, intent_id, card)


async def _relay(
    client: AsyncClient, receiver: WebhookReceiver, intent_id: str, kind: str
) -> tuple[bytes, str]:
    """Wait for localstripe's real signed delivery of `kind` for the intent; return it."""
    delivery = await receiver.await_for(
        lambda d: d.json()["type"] == kind and d.json()["data"]["object"]["id"] == intent_id,
        within=10,
    )
    return delivery.body, delivery.headers["stripe-signature"]


async def _deliver(client: AsyncClient, body: bytes, signature: str) -> Response:
    return await client.post(
        "/api/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def _order(client: AsyncClient, who: Shopper, order_id: str) -> dict[str, Any]:
    """The order once the background jobs (webhook events, refund pay-outs) have run."""
    await run_jobs()
    response = await client.get(f"/api/orders/{order_id}", headers=who.headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def _count(app: FastAPI, model: Any, *where: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _stock(app: FastAPI, order: dict[str, Any]) -> tuple[int, int]:
    async with app.state.sessionmaker() as session:
        item = await session.scalar(
            select(StockItem).where(StockItem.variant_key == order["items"][0]["variant_key"])
        )
    assert item is not None
    return item.stock_level, item.reserved


async def _paid_order(
    app: FastAPI, client: AsyncClient, peer: LocalStripe, receiver: WebhookReceiver
) -> tuple[Shopper, dict[str, Any], str]:
    who, placed = await _checkout(app, client)
    intent_id = placed["payment"]["payment_intent_id"]
    await _pay(peer, intent_id)
    response = await _deliver(
        client, *await _relay(client, receiver, intent_id, "payment_intent.succeeded")
    )
    assert response.status_code == 200, response.text
    await run_jobs()
    return who, placed["order"], intent_id


async def test_card_payment_end_to_end(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    who, placed = await _checkout(app, client)
    order, payment = placed["order"], placed["payment"]
    assert payment["provider"] == "stripe"
    assert payment["client_secret"].startswith(payment["payment_intent_id"])
    intent = peer.retrieve_intent(payment["payment_intent_id"])
    assert (intent["amount"], intent["currency"]) == (240_000, "gbp")
    assert intent["metadata"]["order_id"] == order["id"]
    await _pay(peer, payment["payment_intent_id"])
    event = await _relay(client, receiver, payment["payment_intent_id"], "payment_intent.succeeded")
    first, again = await _deliver(client, *event), await _deliver(client, *event)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    got = await _order(client, who, order["id"])
    assert (got["status"], got["payment_status"]) == ("PAID", "paid")
    assert [h["status"] for h in got["status_history"]] == ["PENDING", "PAID"]
    assert await _stock(app, order) == (1, 0)
    assert await _count(app, StockMovement, StockMovement.reason == "sale") == 1


async def test_declined_card_fails_the_payment_and_the_customer_can_retry(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    who, placed = await _checkout(app, client)
    order, intent_id = placed["order"], placed["payment"]["payment_intent_id"]
    await _pay(peer, intent_id, "pm_card_chargeCustomerFail")
    failed = await _deliver(
        client, *await _relay(client, receiver, intent_id, "payment_intent.payment_failed")
    )
    assert failed.status_code == 200
    got = await _order(client, who, order["id"])
    assert (got["status"], got["payment_status"]) == ("PAYMENT_FAILED", "failed")
    assert await _stock(app, order) == (2, 1)  # still held until the reservation expires
    retry = await client.post(f"/api/orders/{order['id']}/pay", headers=who.headers)
    assert retry.status_code == 200, retry.text
    second = retry.json()["payment_intent_id"]
    assert second != intent_id  # a fresh attempt; the failed one is cancelled at Stripe
    assert peer.retrieve_intent(intent_id)["status"] == "canceled"
    await _pay(peer, second)
    await _deliver(client, *await _relay(client, receiver, second, "payment_intent.succeeded"))
    got = await _order(client, who, order["id"])
    assert [h["status"] for h in got["status_history"]] == ["PENDING", "PAYMENT_FAILED", "PAID"]


async def test_the_same_webhook_five_times_at_once_is_applied_once(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    who, placed = await _checkout(app, client)
    order, intent_id = placed["order"], placed["payment"]["payment_intent_id"]
    await _pay(peer, intent_id)
    event = await _relay(client, receiver, intent_id, "payment_intent.succeeded")
    answers = await asyncio.gather(*(_deliver(client, *event) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 4
    got = await _order(client, who, order["id"])
    assert [h["status"] for h in got["status_history"]].count("PAID") == 1
    assert await _count(app, StockMovement, StockMovement.reason == "sale") == 1
    assert await _count(app, PaymentEvent) >= 1


async def test_a_failure_reported_after_success_changes_nothing(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    who, order, intent_id = await _paid_order(app, client, peer, receiver)
    late = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "payment_intent.payment_failed",
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": 240_000,
                "currency": "gbp",
                "metadata": {"order_id": order["id"]},
            }
        },
    }
    assert (await _deliver(client, *signed_event(late))).status_code == 200
    got = await _order(client, who, order["id"])
    assert (got["status"], got["payment_status"]) == ("PAID", "paid")


async def test_a_bad_signature_is_400_and_records_nothing(
    app: FastAPI, client: AsyncClient, gateway: PaymentGateway
) -> None:
    body, _ = signed_event(
        {"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": {}}}
    )
    forged = await _deliver(client, body, "t=1,v1=deadbeef")
    unsigned = await client.post("/api/webhooks/stripe", content=body)
    assert (forged.status_code, unsigned.status_code) == (400, 400)
    assert forged.headers["content-type"] == "application/problem+json"
    assert await _count(app, PaymentEvent) == 0


async def test_a_signed_body_that_is_not_an_event_is_400_and_records_nothing(
    app: FastAPI, client: AsyncClient, gateway: PaymentGateway
) -> None:
    for event in (
        {"type": "payment_intent.succeeded", "data": {"object": {"id": "pi_x"}}},
        {"id": "", "type": "payment_intent.succeeded", "data": {"object": {}}},
        {"id": "evt_1", "type": "payment_intent.succeeded", "data": []},
        {"id": "evt_2", "type": "payment_intent.succeeded", "data": {"object": "pi_x"}},
    ):
        response = await _deliver(client, *signed_event(event))
        assert response.status_code == 400, (event, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert await _count(app, PaymentEvent) == 0


class _PaysBeforeAnswering:
    """A gateway whose PaymentIntents are paid, and the webhook applied, before checkout answers."""

    def __init__(self, inner: PaymentGateway, deliver: Any) -> None:
        self._inner, self._deliver = inner, deliver
        self.provider = "stripe"

    async def create_payment(self, *args: Any, **kwargs: Any) -> PaymentIntentResult:
        result = await self._inner.create_payment(*args, **kwargs)
        await self._deliver(result.intent_id)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_webhook_arriving_before_the_checkout_answer(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    async def pay_and_deliver(intent_id: str) -> None:
        await _pay(peer, intent_id)
        event = await _relay(client, receiver, intent_id, "payment_intent.succeeded")
        assert (await _deliver(client, *event)).status_code == 200

    app.state.payment_gateway = _PaysBeforeAnswering(gateway, pay_and_deliver)
    who, placed = await _checkout(app, client)
    order = placed["order"]
    assert placed["payment"]["payment_intent_id"]
    got = await _order(client, who, order["id"])
    assert (got["status"], got["payment_status"]) == ("PAID", "paid")
    assert got["payment"]["status"] == "succeeded"
    assert await _stock(app, order) == (1, 0)


async def test_refunds_partial_idempotent_and_never_more_than_paid(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
    admin: Account,
    staff: Account,
) -> None:
    _, order, _ = await _paid_order(app, client, peer, receiver)
    url = f"/api/orders/{order['id']}/refund"

    async def refund(key: str, amount: str | None, as_: Account = admin) -> Response:
        body: dict[str, Any] = {"reason": "Goodwill"}
        if amount is not None:
            body["amount"] = {"amount": amount, "currency": "GBP"}
        return await client.post(url, json=body, headers=as_.headers | {"Idempotency-Key": key})

    assert (await refund("r0", "1.00", staff)).status_code == 403
    part = await refund("r1", "1000.00")
    assert part.status_code == 201, part.text
    assert (part.json()["status"], part.json()["payment_status"]) == (
        "succeeded",
        "partially_refunded",
    )
    again = await refund("r1", "1000.00")
    assert again.json()["id"] == part.json()["id"]
    assert (await refund("r1", "5.00")).status_code == 409  # key reused for another amount
    too_much = await refund("r2", "1400.01")
    assert too_much.status_code == 409
    assert (await refund("r3", "0.00")).status_code == 422
    rest = await refund("r4", None)
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"]["amount"] == "1400.00"
    assert (rest.json()["order_status"], rest.json()["payment_status"]) == ("REFUNDED", "refunded")
    assert (await refund("r5", "0.01")).status_code == 409
    assert await _count(app, Refund) == 2


async def test_cancelling_a_paid_card_order_refunds_it_and_restocks(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    who, order, intent_id = await _paid_order(app, client, peer, receiver)
    response = await client.post(f"/api/orders/{order['id']}/cancel", headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CANCELLED"
    body = await _order(client, who, order["id"])  # the refund is paid out by a job
    assert (body["status"], body["payment_status"]) == ("CANCELLED", "refunded")
    assert await _stock(app, order) == (2, 0)
    assert peer.retrieve_intent(intent_id)["status"] == "succeeded"
    async with app.state.sessionmaker() as session:
        refund = await session.scalar(select(Refund))
    assert refund is not None
    assert (refund.status, refund.amount_pence) == ("succeeded", 240_000)
    assert refund.provider_refund_id is not None


async def test_payment_for_a_cancelled_order_is_refunded_automatically(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    who, placed = await _checkout(app, client)
    order, intent_id = placed["order"], placed["payment"]["payment_intent_id"]
    cancelled = await client.post(f"/api/orders/{order['id']}/cancel", headers=who.headers)
    assert cancelled.status_code == 200
    await _pay(peer, intent_id)  # the customer's browser was still on the payment page
    await _deliver(client, *await _relay(client, receiver, intent_id, "payment_intent.succeeded"))
    got = await _order(client, who, order["id"])
    assert (got["status"], got["payment_status"]) == ("CANCELLED", "refunded")
    assert await _stock(app, order) == (2, 0)
    assert await _count(app, Refund, Refund.status == "succeeded") == 1


async def test_a_refund_made_at_stripe_is_recorded(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    who, order, intent_id = await _paid_order(app, client, peer, receiver)
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_1",
                "object": "charge",
                "payment_intent": intent_id,
                "amount": 240_000,
                "amount_refunded": 50_000,
                "currency": "gbp",
            }
        },
    }
    first = await _deliver(client, *signed_event(event))
    assert first.status_code == 200
    await _deliver(client, *signed_event(event))
    got = await _order(client, who, order["id"])
    assert (got["status"], got["payment_status"]) == ("PAID", "partially_refunded")
    assert got["payment"]["refunded"]["amount"] == "500.00"


class _Unreachable:
    provider = "stripe"
    calls_provider = True

    def __init__(self, error: Exception) -> None:
        self._error = error

    async def create_payment(self, *args: Any, **kwargs: Any) -> PaymentIntentResult:
        raise self._error


async def test_provider_outage_after_the_order_is_stored_loses_nothing(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    app.state.payment_gateway = _Unreachable(PaymentProviderError("Stripe is down"))
    who, placed = await _checkout(app, client)
    order = placed["order"]
    assert placed["payment"]["status"] == "unavailable"
    assert placed["payment"]["retry_url"] == f"/api/orders/{order['id']}/pay"
    assert (await _order(client, who, order["id"]))["status"] == "PENDING"
    app.state.payment_gateway = gateway
    retry = await client.post(f"/api/orders/{order['id']}/pay", headers=who.headers)
    assert retry.status_code == 200, retry.text
    await _pay(peer, retry.json()["payment_intent_id"])
    await _deliver(
        client,
        *await _relay(
            client, receiver, retry.json()["payment_intent_id"], "payment_intent.succeeded"
        ),
    )
    assert (await _order(client, who, order["id"]))["status"] == "PAID"


async def test_a_crash_between_order_and_payment_is_recovered_by_the_same_key(
    app: FastAPI, client: AsyncClient, gateway: PaymentGateway
) -> None:
    """The worker dies after the order committed and before the payment exists: the client
    never hears back, retries with the same key, and gets the same order with its payment."""
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    body = {"shipping_address_id": who.address_id, "billing_address_id": who.address_id}
    headers = who.headers | {"Idempotency-Key": "crash-once"}
    app.state.payment_gateway = _Unreachable(RuntimeError("worker killed"))
    with pytest.raises(RuntimeError, match="worker killed"):
        await client.post("/api/checkout", json=body, headers=headers)
    [stored] = (await client.get("/api/orders", headers=who.headers)).json()["items"]
    assert stored["status"] == "PENDING"
    app.state.payment_gateway = gateway
    retried = await client.post("/api/checkout", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert retried.json()["order"]["id"] == stored["id"]
    assert retried.json()["payment"]["client_secret"]


class _RefundsDown(_Unreachable):
    async def refund(self, *args: Any, **kwargs: Any) -> Any:
        raise PaymentProviderError("Stripe is down")


async def test_a_refund_interrupted_by_an_outage_is_finished_later(
    app: FastAPI,
    client: AsyncClient,
    settings: Settings,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    who, order, _ = await _paid_order(app, client, peer, receiver)
    app.state.payment_gateway = _RefundsDown(PaymentProviderError("down"))
    cancelled = await client.post(f"/api/orders/{order['id']}/cancel", headers=who.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["payment_status"]) == ("CANCELLED", "paid")
    async with app.state.sessionmaker() as session:
        retried = await retry_requested_refunds(session, settings, gateway, older_than=timedelta(0))
        assert retried == 1
    got = await _order(client, who, order["id"])
    assert got["payment_status"] == "refunded"
    assert await _count(app, Refund, Refund.status == "succeeded") == 1


def _outage(url: str) -> dict[str, str]:
    """Job bodies see Stripe at `url`, with immediate retries and two attempts in all."""
    return {"STRIPE_API_BASE": url, "JOB_RETRY_BASE_SECONDS": "0", "JOB_MAX_ATTEMPTS": "2"}


async def _dead_letters(client: AsyncClient, staff: Account) -> list[dict[str, Any]]:
    listed = await client.get("/api/admin/jobs?status=failed", headers=staff.headers)
    assert listed.status_code == 200
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


async def test_a_refund_pay_out_that_keeps_failing_is_a_dead_letter_staff_can_retry(
    app: FastAPI,
    client: AsyncClient,
    staff: Account,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
) -> None:
    who, order, _ = await _paid_order(app, client, peer, receiver)
    with http_peer(lambda n: (503, b"{}")) as down, settings_env(**_outage(down.url)):
        cancelled = await client.post(f"/api/orders/{order['id']}/cancel", headers=who.headers)
        assert cancelled.status_code == 200, cancelled.text
        await run_jobs()
        assert len(down.requests) >= 2  # each job attempt asked Stripe (which retries too)
    [dead] = await _dead_letters(client, staff)
    assert (dead["task_name"], dead["attempts"]) == ("pay_out_refund", 2)
    assert (await _order(client, who, order["id"]))["payment_status"] == "paid"
    retried = await client.post(f"/api/admin/jobs/{dead['id']}/retry", headers=staff.headers)
    assert retried.status_code == 200, retried.text
    got = await _order(client, who, order["id"])
    assert (got["status"], got["payment_status"]) == ("CANCELLED", "refunded")
    assert await _count(app, Refund, Refund.status == "succeeded") == 1


async def test_an_event_that_cannot_be_applied_is_kept_and_listed_for_staff(
    app: FastAPI, client: AsyncClient, staff: Account, gateway: PaymentGateway
) -> None:
    """The event is stored and acknowledged; applying it fails (an intent id longer than any
    Stripe issues), is retried, then shows as a dead letter; nothing is half applied."""
    who, placed = await _checkout(app, client)
    order = placed["order"]
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_" + "x" * 300,
                "object": "payment_intent",
                "amount": 240_000,
                "currency": "gbp",
                "metadata": {"order_id": order["id"]},
            }
        },
    }
    with settings_env(JOB_RETRY_BASE_SECONDS="0", JOB_MAX_ATTEMPTS="2"):
        assert (await _deliver(client, *signed_event(event))).status_code == 200
        got = await _order(client, who, order["id"])
    assert got["status"] == "PENDING"
    [dead] = await _dead_letters(client, staff)
    assert (dead["task_name"], dead["attempts"]) == ("apply_payment_event", 2)
    async with app.state.sessionmaker() as session:
        stored = await session.scalar(select(PaymentEvent))
    assert stored is not None
    assert (stored.external_id, stored.processed_at) == (event["id"], None)


async def test_card_instalments_each_settle_by_their_own_webhook(
    app: FastAPI,
    client: AsyncClient,
    peer: LocalStripe,
    receiver: WebhookReceiver,
    gateway: PaymentGateway,
    staff: Account,
) -> None:
    """A bespoke order's deposit and balance paid by card: each PaymentIntent is for the
    instalment due, and each webhook settles that instalment."""
    who = await make_account(app)
    enquiry = await client.post(
        "/api/bespoke",
        json={"name": "Ada", "email": who.email, "piece_type": "ring", "notes": "Sapphire"},
    )
    quote = await client.post(
        f"/api/bespoke/{enquiry.json()['id']}/quotes",
        json={
            "description": "Sapphire ring",
            "price": {"amount": "1000.00", "currency": "GBP"},
            "deposit_percent": 25,
            "valid_until": (utcnow() + timedelta(days=7)).isoformat(),
        },
        headers=staff.headers,
    )
    accepted = await client.post(
        f"/api/bespoke/quotes/{quote.json()['id']}/accept", headers=who.headers
    )
    assert accepted.status_code == 201, accepted.text
    order_id = accepted.json()["id"]
    statuses = []
    for expected_amount in (25_000, 75_000):
        started = await client.post(f"/api/orders/{order_id}/pay", headers=who.headers)
        assert started.status_code == 200, started.text
        intent_id = started.json()["payment_intent_id"]
        intent = await _pay(peer, intent_id)
        assert intent["amount"] == expected_amount
        delivered = await _deliver(
            client, *await _relay(client, receiver, intent_id, "payment_intent.succeeded")
        )
        assert delivered.status_code == 200
        await run_jobs()
        order = (await client.get(f"/api/orders/{order_id}", headers=who.headers)).json()
        statuses.append(order["payment_status"])
    assert statuses == ["deposit_paid", "paid"]
    assert order["invoice_number"].startswith("INV-")
    nothing = await client.post(f"/api/orders/{order_id}/pay", headers=who.headers)
    assert nothing.status_code == 409
