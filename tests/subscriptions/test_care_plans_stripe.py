"""Care plans and saved cards end to end against localstripe, through the HTTP API and the
signed webhooks localstripe really sends (relayed to the app), with its gaps bridged in test
setup as real Stripe behaves: the test attaches a confirmed card and posts the signed
`setup_intent.succeeded`, and posts the `trialing` update of a trial subscription."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from elysium.kit.clock import utcnow
from elysium.models import (
    BillingCustomer,
    CarePlan,
    PaymentEvent,
    SavedCard,
    SentEmail,
    Subscription,
)
from elysium.payments.gateway import PaymentGateway
from elysium.subscriptions.service import STALE_HOLD
from factories import Account, checkout, make_account, queued_emails, shopper, stocked_piece
from job_helpers import run_jobs
from peers.localstripe_peer import LocalStripe, WebhookReceiver, signed_event

NEEDS_AUTHENTICATION = "4000002760003184"  # every off-session charge asks for 3-D Secure
DECLINES_ON_CHARGE = "4000000000000341"  # attaches fine, every charge is declined


async def _deliver(client: AsyncClient, body: bytes, signature: str) -> Response:
    return await client.post(
        "/api/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def _post_event(client: AsyncClient, kind: str, obj: dict[str, Any]) -> Response:
    """A signed event made by the test, where localstripe sends none (created after any
    state the app already holds, as Stripe's would be)."""
    event = {
        "id": f"evt_test_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()) + 1,
        "data": {"object": obj},
    }
    response = await _deliver(client, *signed_event(event))
    assert response.status_code == 200, response.text
    return response


async def _relay(
    client: AsyncClient, receiver: WebhookReceiver, kind: str, object_id: str
) -> Response:
    """localstripe's real signed delivery of `kind` about `object_id`, passed to the app."""
    delivery = await receiver.await_for(
        lambda d: d.json()["type"] == kind and d.json()["data"]["object"]["id"] == object_id,
        within=10,
    )
    response = await _deliver(client, delivery.body, delivery.headers["stripe-signature"])
    assert response.status_code == 200, response.text
    return response


async def _create_plan(client: AsyncClient, admin: Account, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Annual Care",
        "description": "Cleaning, inspection, re-plating, stone tightening and a valuation.",
        "price": {"amount": "240.00", "currency": "GBP"},
        "interval": "year",
        "benefits": ["Cleaning", "Inspection", "Insurance valuation"],
    } | fields
    response = await client.post("/api/admin/care-plans", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()
    return plan


async def _customer_id(app: FastAPI, account: Account) -> str:
    async with app.state.sessionmaker() as session:
        found = await session.scalar(
            select(BillingCustomer.provider_customer_id).where(
                BillingCustomer.user_id == uuid.UUID(account.id)
            )
        )
    assert found is not None
    return str(found)


async def _save_card(
    app: FastAPI,
    client: AsyncClient,
    peer: LocalStripe,
    who: Account,
    number: str = "4242424242424242",
) -> dict[str, Any]:
    """Save a card as the storefront would, then as Stripe reports it; returns it as listed."""
    setup = await client.post("/api/user/payment-methods/setup", headers=who.headers)
    assert setup.status_code == 201, setup.text
    setup_id = setup.json()["setup_intent_id"]
    assert setup.json()["client_secret"].startswith(setup_id)
    card = peer.new_card(number)
    peer.confirm_card_setup(setup_id, await _customer_id(app, who), card)
    await _post_event(client, "setup_intent.succeeded", peer.get(f"/v1/setup_intents/{setup_id}"))
    await run_jobs()
    cards = (await client.get("/api/user/payment-methods", headers=who.headers)).json()
    saved: dict[str, Any] = next(c for c in cards if c["last4"] == number[-4:])
    return saved


async def _subscribe(
    client: AsyncClient, who: Account, plan: dict[str, Any], card: dict[str, Any]
) -> Response:
    body = {"plan_id": plan["id"], "payment_method_id": card["id"]}
    return await client.post("/api/subscriptions", json=body, headers=who.headers)


@dataclass(frozen=True)
class Subscribed:
    """A client subscribed to a fresh plan with a fresh saved card."""

    who: Account
    card: dict[str, Any]
    subscription: dict[str, Any]
    stripe_id: str


async def _subscribed(
    app: FastAPI,
    client: AsyncClient,
    peer: LocalStripe,
    admin: Account,
    staff: Account,
    **plan_fields: Any,
) -> Subscribed:
    who = await make_account(app)
    plan = await _create_plan(client, admin, **plan_fields)
    card = await _save_card(app, client, peer, who)
    created = await _subscribe(client, who, plan, card)
    assert created.status_code == 201, created.text
    [row] = await _staff_view(client, staff, user_id=who.id)
    return Subscribed(who, card, created.json(), row["provider_subscription_id"])


async def _mine(client: AsyncClient, who: Account) -> dict[str, Any]:
    """The client's one subscription, after the queued billing events have been applied."""
    await run_jobs()
    listed = (await client.get("/api/subscriptions", headers=who.headers)).json()
    assert len(listed) == 1
    mine: dict[str, Any] = listed[0]
    return mine


async def _staff_view(client: AsyncClient, staff: Account, **query: str) -> list[dict[str, Any]]:
    response = await client.get("/api/admin/subscriptions", params=query, headers=staff.headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def _count(app: FastAPI, model: Any, *where: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_admins_manage_plans_mirrored_at_stripe_and_clients_see_active_ones(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    admin: Account,
    customer: Account,
) -> None:
    plan = await _create_plan(client, admin)
    assert (plan["price"], plan["interval"], plan["active"]) == (
        {"amount": "240.00", "currency": "GBP"},
        "year",
        True,
    )
    async with app.state.sessionmaker() as session:
        row = await session.get(CarePlan, uuid.UUID(plan["id"]))
    assert row is not None
    assert row.provider_product_id
    assert row.provider_price_id
    first_price = row.provider_price_id
    stripe_plan = peer.get(f"/v1/plans/{first_price}")
    assert (stripe_plan["amount"], stripe_plan["currency"], stripe_plan["interval"]) == (
        24_000,
        "gbp",
        "year",
    )
    assert peer.get(f"/v1/products/{row.provider_product_id}")["name"] == "Annual Care"

    changed = await client.patch(
        f"/api/admin/care-plans/{plan['id']}",
        json={"price": {"amount": "25.00", "currency": "GBP"}, "interval": "month"},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    async with app.state.sessionmaker() as session:
        row = await session.get(CarePlan, uuid.UUID(plan["id"]))
    assert row is not None
    assert row.provider_price_id != first_price
    retired = peer.get(f"/v1/plans/{first_price}")["active"]
    assert str(retired).lower() == "false"  # localstripe keeps the form value as sent
    assert peer.get(f"/v1/plans/{row.provider_price_id}")["amount"] == 2_500

    hidden = await _create_plan(client, admin, name="Retired plan", active=False)
    public = (await client.get("/api/care-plans")).json()
    assert [p["id"] for p in public] == [plan["id"]]
    assert hidden["id"] not in {p["id"] for p in public}

    denied = await client.post(
        "/api/admin/care-plans", json={"name": "x"}, headers=customer.headers
    )
    assert denied.status_code == 403
    bad = await client.post(
        "/api/admin/care-plans",
        json={"name": "Free", "price": {"amount": "0.00"}, "interval": "year"},
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    missing = await client.patch(
        f"/api/admin/care-plans/{uuid.uuid4()}", json={"name": "x"}, headers=admin.headers
    )
    assert missing.status_code == 404


async def test_saved_cards_are_listed_made_default_and_removed_at_stripe(
    app: FastAPI, client: AsyncClient, gateway: PaymentGateway, peer: LocalStripe
) -> None:
    who, other = await make_account(app), await make_account(app)
    first = await _save_card(app, client, peer, who)
    second = await _save_card(app, client, peer, who, "5555555555554444")
    assert {k: first[k] for k in ("brand", "last4", "exp_month", "exp_year", "is_default")} == {
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2034,
        "is_default": False,
    }
    customer_id = await _customer_id(app, who)
    again = await client.post("/api/user/payment-methods/setup", headers=who.headers)
    assert again.status_code == 201
    assert await _customer_id(app, who) == customer_id  # one Stripe customer per client

    chosen = await client.put(
        f"/api/user/payment-methods/{second['id']}/default", headers=who.headers
    )
    assert chosen.status_code == 200
    assert chosen.json()["is_default"] is True
    stripe_customer = peer.get(f"/v1/customers/{customer_id}")
    cards = (await client.get("/api/user/payment-methods", headers=who.headers)).json()
    default_pm = stripe_customer["invoice_settings"]["default_payment_method"]
    assert [c["is_default"] for c in cards] == [False, True]
    assert peer.get(f"/v1/payment_methods/{default_pm}")["card"]["last4"] == "4444"

    assert (await client.get("/api/user/payment-methods", headers=other.headers)).json() == []
    stranger = await client.delete(
        f"/api/user/payment-methods/{first['id']}", headers=other.headers
    )
    assert stranger.status_code == 404
    removed = await client.delete(f"/api/user/payment-methods/{first['id']}", headers=who.headers)
    assert removed.status_code == 204
    remaining = (await client.get("/api/user/payment-methods", headers=who.headers)).json()
    assert [c["id"] for c in remaining] == [second["id"]]
    detached = list(peer.get(f"/v1/payment_methods?customer={customer_id}&type=card")["data"])
    assert [pm["card"]["last4"] for pm in detached] == ["4444"]


async def test_subscribe_renew_fail_recover_pause_resume_and_cancel(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
    admin: Account,
    staff: Account,
) -> None:
    who = await make_account(app)
    plan = await _create_plan(client, admin)
    card = await _save_card(app, client, peer, who)
    created = await _subscribe(client, who, plan, card)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    assert created.json()["current_period_end"] is not None
    customer_id = await _customer_id(app, who)
    [row] = await _staff_view(client, staff, user_id=who.id)
    sub_id = row["provider_subscription_id"]
    stripe_sub = peer.get(f"/v1/subscriptions/{sub_id}")
    assert stripe_sub["metadata"]["subscription_id"] == created.json()["id"]
    first_invoice = stripe_sub["latest_invoice"]
    await _relay(client, receiver, "invoice.payment_succeeded", first_invoice)
    assert (await _mine(client, who))["status"] == "active"
    assert [e.to for e in await queued_emails(app, "care_plan_started")] == [who.email]
    again = await _subscribe(client, who, plan, card)
    assert again.status_code == 409  # one live subscription per plan per piece

    renewal = peer.bill_next_period(sub_id, customer_id)
    assert renewal["status"] == "paid"
    await _relay(client, receiver, "invoice.payment_succeeded", renewal["id"])
    await _post_event(client, "invoice.paid", renewal)  # Stripe sends both; the first counts
    assert (await _mine(client, who))["status"] == "active"
    assert len(await queued_emails(app, "care_plan_renewed")) == 1

    peer.set_default_card(customer_id, peer.new_card(NEEDS_AUTHENTICATION))
    failed = peer.fail_authentication(peer.bill_next_period(sub_id, customer_id)["id"])
    assert failed["status"] == "open"
    await _relay(client, receiver, "invoice.payment_failed", failed["id"])
    assert (await _mine(client, who))["status"] == "past_due"
    assert [r["status"] for r in await _staff_view(client, staff, status="past_due")] == [
        "past_due"
    ]
    [failure_email] = await queued_emails(app, "care_plan_payment_failed")
    assert failure_email.context is not None
    assert failure_email.context["update_card_url"].endswith("/account/payment-methods")

    new_card = await _save_card(app, client, peer, who, "5555555555554444")
    chosen = await client.put(
        f"/api/user/payment-methods/{new_card['id']}/default", headers=who.headers
    )
    assert chosen.status_code == 200
    retried = peer.pay_invoice(failed["id"])  # Stripe retries the invoice on the new card
    assert retried["status"] == "paid"
    await _relay(client, receiver, "invoice.payment_succeeded", failed["id"])
    assert (await _mine(client, who))["status"] == "active"

    mine = created.json()["id"]
    paused = await client.post(f"/api/subscriptions/{mine}/pause", headers=who.headers)
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    assert peer.get(f"/v1/subscriptions/{sub_id}")["pause_collection"] == {"behavior": "void"}
    booking = await _book_care_service(client, who, mine)
    assert booking.status_code == 409  # a paused plan covers no services
    resumed = await client.post(f"/api/subscriptions/{mine}/resume", headers=who.headers)
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "active"
    booking = await _book_care_service(client, who, mine)
    assert booking.status_code == 201, booking.text
    assert booking.json()["care_plan_subscription_id"] == mine

    cancelled = await client.post(f"/api/subscriptions/{mine}/cancel", headers=who.headers)
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancel_at_period_end"]) == (
        "active",
        True,
    )
    assert peer.get(f"/v1/subscriptions/{sub_id}")["cancel_at_period_end"] is True
    ended = peer.get(f"/v1/subscriptions/{sub_id}") | {"status": "canceled"}
    await _post_event(client, "customer.subscription.deleted", ended)  # at the period's end
    assert (await _mine(client, who))["status"] == "cancelled"
    other = await make_account(app)
    hidden = await client.post(f"/api/subscriptions/{mine}/pause", headers=other.headers)
    assert hidden.status_code == 404


async def _book_care_service(client: AsyncClient, who: Account, subscription: str) -> Response:
    slots = (await client.get("/api/consultations/slots")).json()["items"]
    body = {
        "starts_at": slots[0]["starts_at"],
        "topic": "Care plan cleaning",
        "care_plan_subscription_id": subscription,
    }
    return await client.post("/api/consultations", json=body, headers=who.headers)


async def test_a_trial_starts_trialing_from_the_signed_update(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    admin: Account,
    staff: Account,
) -> None:
    subscribed = await _subscribed(app, client, peer, admin, staff, trial_days=30)
    who = subscribed.who
    sub = peer.get(f"/v1/subscriptions/{subscribed.stripe_id}")
    trial_end = int(time.time()) + 30 * 86_400
    trialing = sub | {"status": "trialing", "trial_end": trial_end}
    await _post_event(client, "customer.subscription.updated", trialing)
    mine = await _mine(client, who)
    assert mine["status"] == "trialing"
    assert mine["trial_end"] is not None
    assert await queued_emails(app, "care_plan_started") == []  # nothing paid yet


async def test_replayed_and_concurrent_billing_webhooks_are_applied_once(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
    admin: Account,
    staff: Account,
) -> None:
    subscribed = await _subscribed(app, client, peer, admin, staff)
    who = subscribed.who
    renewal = peer.bill_next_period(subscribed.stripe_id, await _customer_id(app, who))
    delivery = await receiver.await_for(
        lambda d: (
            d.json()["type"] == "invoice.payment_succeeded"
            and d.json()["data"]["object"]["id"] == renewal["id"]
        ),
        within=10,
    )
    signature = delivery.headers["stripe-signature"]
    paid = delivery.json() | {"id": f"evt_test_{uuid.uuid4().hex[:16]}", "type": "invoice.paid"}
    answers = await asyncio.gather(
        *(_deliver(client, delivery.body, signature) for _ in range(5)),
        _deliver(client, *signed_event(paid)),  # Stripe sends both for one invoice
    )
    assert answers.pop().json()["duplicate"] is False
    assert [a.status_code for a in answers] == [200] * 5
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True, True, True]
    await run_jobs(workers=2)
    replay = await _deliver(client, delivery.body, signature)
    assert replay.json()["duplicate"] is True
    await run_jobs()
    event_id = delivery.json()["id"]
    assert await _count(app, PaymentEvent, PaymentEvent.external_id == event_id) == 1
    # the subscription's first invoice was not relayed: the renewal is the first paid, once
    started = await _count(app, SentEmail, SentEmail.template == "care_plan_started")
    assert started == 1
    assert (await _mine(client, who))["status"] == "active"
    tampered = await _deliver(client, delivery.body, signature.replace("v1=", "v1=0"))
    assert tampered.status_code == 400


async def test_two_subscribe_requests_at_once_make_one_subscription(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    admin: Account,
) -> None:
    who = await make_account(app)
    plan = await _create_plan(client, admin)
    card = await _save_card(app, client, peer, who)
    answers = await asyncio.gather(*(_subscribe(client, who, plan, card) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 409]
    customer_id = await _customer_id(app, who)
    at_stripe = peer.get(f"/v1/subscriptions?customer={customer_id}")["data"]
    assert len(at_stripe) == 1


async def test_a_place_held_by_a_subscribe_that_never_reached_stripe_is_released(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    admin: Account,
) -> None:
    who = await make_account(app)
    plan = await _create_plan(client, admin)
    card = await _save_card(app, client, peer, who)
    async with app.state.sessionmaker() as session, session.begin():
        session.add(
            Subscription(
                id=uuid.uuid4(),
                user_id=uuid.UUID(who.id),
                plan_id=uuid.UUID(plan["id"]),
                created_at=utcnow() - STALE_HOLD - timedelta(seconds=1),
            )
        )
    created = await _subscribe(client, who, plan, card)
    assert created.status_code == 201, created.text
    listed = (await client.get("/api/subscriptions", headers=who.headers)).json()
    assert sorted(s["status"] for s in listed) == ["active", "cancelled"]


async def test_checkout_pays_with_a_saved_card_at_once_and_the_piece_gets_a_plan(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    receiver: WebhookReceiver,
    admin: Account,
) -> None:
    product = await stocked_piece(app, level=2)
    who = await shopper(app, client, product)
    other = await shopper(app, client, product)
    card = await _save_card(app, client, peer, who.account)
    stolen = await checkout(client, other, payment_method_id=card["id"])
    assert stolen.status_code == 404  # someone else's card; nothing was placed
    assert (await client.get("/api/orders", headers=other.headers)).json()["items"] == []

    placed = await checkout(client, who, payment_method_id=card["id"])
    assert placed.status_code == 201, placed.text
    payment = placed.json()["payment"]
    assert payment["status"] == "succeeded"  # confirmed off-session, no browser step
    intent = peer.retrieve_intent(payment["payment_intent_id"])
    customer_id = await _customer_id(app, who.account)
    [saved] = peer.get(f"/v1/payment_methods?customer={customer_id}&type=card")["data"]
    assert (intent["customer"], intent["payment_method"]) == (customer_id, saved["id"])
    await _relay(client, receiver, "payment_intent.succeeded", payment["payment_intent_id"])
    await run_jobs()
    order = (
        await client.get(f"/api/orders/{placed.json()['order']['id']}", headers=who.headers)
    ).json()
    assert (order["status"], order["payment_status"]) == ("PAID", "paid")

    plan = await _create_plan(client, admin)  # a care plan for the piece just bought
    piece = order["items"][0]["id"]
    body = {"plan_id": plan["id"], "payment_method_id": card["id"], "order_item_id": piece}
    covered = await client.post("/api/subscriptions", json=body, headers=who.headers)
    assert covered.status_code == 201, covered.text
    assert covered.json()["order_item_id"] == piece
    not_theirs = await client.post(
        "/api/subscriptions", json=body | {"order_item_id": str(uuid.uuid4())}, headers=who.headers
    )
    assert not_theirs.status_code == 404


async def test_without_card_payments_saved_cards_answer_409(
    client: AsyncClient, customer: Account
) -> None:
    response = await client.post("/api/user/payment-methods/setup", headers=customer.headers)
    assert response.status_code == 409
    assert response.json()["type"].endswith("billing-unavailable")
    assert (await client.get("/api/subscriptions", headers=customer.headers)).json() == []


async def test_erasure_ends_care_plans_at_stripe_and_forgets_cards(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    admin: Account,
    staff: Account,
) -> None:
    subscribed = await _subscribed(app, client, peer, admin, staff)
    who = subscribed.who
    export = (await client.get("/api/user/export", headers=who.headers)).json()
    assert [c["last4"] for c in export["saved_cards"]] == ["4242"]
    assert [s["status"] for s in export["care_plan_subscriptions"]] == ["active"]
    assert export["billing_customer"][0]["provider_customer_id"].startswith("cus_")

    assert (await client.delete("/api/user", headers=who.headers)).status_code == 204
    await run_jobs()
    assert await _count(app, SavedCard) == 0
    assert await _count(app, BillingCustomer) == 0
    [kept] = await _staff_view(client, staff, user_id=who.id)  # kept for the accounts
    assert kept["status"] == "cancelled"
    assert kept["user_email"].endswith("@erased.invalid")
    ended = peer.get(f"/v1/subscriptions/{subscribed.stripe_id}")
    assert ended["status"] == "canceled"


async def test_a_renewal_ahead_is_announced_once_and_not_after_cancelling(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    admin: Account,
    staff: Account,
) -> None:
    renewing = await _subscribed(app, client, peer, admin, staff)
    leaving = await _subscribed(app, client, peer, admin, staff)
    mine = leaving.subscription["id"]
    cancel = await client.post(f"/api/subscriptions/{mine}/cancel", headers=leaving.who.headers)
    assert cancel.status_code == 200
    for subscribed in (renewing, leaving):
        upcoming = {  # Stripe's upcoming invoice has no id yet
            "object": "invoice",
            "customer": await _customer_id(app, subscribed.who),
            "subscription": subscribed.stripe_id,
            "amount_due": 24_000,
            "currency": "gbp",
        }
        await _post_event(client, "invoice.upcoming", upcoming)
        await _post_event(client, "invoice.upcoming", upcoming)  # Stripe may send it again
    await run_jobs()
    [reminder] = await queued_emails(app, "care_plan_renewal_reminder")
    assert reminder.to == renewing.who.email  # the cancelled plan will not renew: no email
    assert reminder.context is not None
    assert reminder.context["amount"] == 24_000


async def test_a_first_payment_declined_leaves_the_plan_incomplete_and_covering_nothing(
    app: FastAPI,
    client: AsyncClient,
    gateway: PaymentGateway,
    peer: LocalStripe,
    admin: Account,
) -> None:
    who = await make_account(app)
    plan = await _create_plan(client, admin)
    card = await _save_card(app, client, peer, who, DECLINES_ON_CHARGE)
    created = await _subscribe(client, who, plan, card)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "incomplete"  # Stripe waits for another card
    booking = await _book_care_service(client, who, created.json()["id"])
    assert booking.status_code == 409
