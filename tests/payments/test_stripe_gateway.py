"""StripeGateway against a real Stripe-compatible server (localstripe), webhooks included."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import stripe  # only to build a Stripe error below; src keeps stripe in its adapter

from elysium.payments.gateway import (
    GatewayEventType,
    IntentStatus,
    InvalidWebhookSignatureError,
    PaymentDeclinedError,
    PaymentGateway,
    PaymentProviderError,
)
from elysium.payments.stripe_gateway import StripeGateway, _translate_errors
from peers.localstripe_peer import (
    SECRET_KEY,
    STRIPE_WEBHOOK_SECRET,
    Delivery,
    LocalStripe,
    WebhookReceiver,
    signed_event,
    stripe_signature,
)

PI_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]


@pytest.fixture
async def gateway(peer: LocalStripe) -> AsyncIterator[StripeGateway]:
    gw = StripeGateway(
        SECRET_KEY, STRIPE_WEBHOOK_SECRET, api_base=peer.api_base, max_network_retries=0
    )
    yield gw
    await gw.aclose()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


async def _create(gateway: PaymentGateway, amount_pence: int = 450_000) -> str:
    result = await gateway.create_payment(
        order_id=uuid.uuid4(),
        order_number="ELY-2026-000123",
        amount_pence=amount_pence,
        currency="GBP",
        customer_email="ada@example.com",
        idempotency_key=uuid.uuid4().hex,
    )
    assert result.intent_id is not None
    return result.intent_id


async def _paid_intent(gateway: StripeGateway, peer: LocalStripe, amount_pence: int) -> str:
    intent_id = await _create(gateway, amount_pence)
    assert peer.confirm_with_card(intent_id)["status"] == "succeeded"
    return intent_id


def _for_intent(intent_id: str, event_type: str) -> Any:
    def matches(delivery: Delivery) -> bool:
        event = delivery.json()
        return bool(event["type"] == event_type and event["data"]["object"]["id"] == intent_id)

    return matches


# --- PaymentIntents ---------------------------------------------------------------------------


async def test_create_payment_makes_a_gbp_intent_in_pence(
    gateway: StripeGateway, peer: LocalStripe
) -> None:
    order_id = uuid.uuid4()
    result = await gateway.create_payment(
        order_id, "ELY-2026-000123", 450_000, "GBP", "ada@example.com", "idem-1"
    )

    assert result.provider == "stripe"
    assert result.intent_id is not None
    assert result.intent_id.startswith("pi_")
    assert result.client_secret is not None
    assert result.client_secret.startswith(f"{result.intent_id}_secret_")
    assert result.status == IntentStatus.REQUIRES_PAYMENT_METHOD
    assert (result.amount_pence, result.currency) == (450_000, "GBP")
    assert result.instructions is None
    assert result.redirect_url is None
    stored = peer.retrieve_intent(result.intent_id)
    assert (stored["amount"], stored["currency"]) == (450_000, "gbp")
    assert stored["metadata"] == {"order_id": str(order_id), "order_number": "ELY-2026-000123"}


async def test_card_confirmed_in_browser_succeeds(
    gateway: StripeGateway, peer: LocalStripe
) -> None:
    intent_id = await _create(gateway)

    peer.confirm_with_card(intent_id, "pm_card_visa")

    result = await gateway.retrieve_payment(intent_id)
    assert result.status == IntentStatus.SUCCEEDED
    assert result.amount_pence == 450_000
    assert result.failure_message is None


async def test_declined_card_leaves_the_payment_failed(
    gateway: StripeGateway, peer: LocalStripe
) -> None:
    intent_id = await _create(gateway)

    peer.confirm_with_card(intent_id, "pm_card_chargeCustomerFail")

    result = await gateway.retrieve_payment(intent_id)
    assert result.status == IntentStatus.REQUIRES_PAYMENT_METHOD
    assert result.failure_message == "Your card was declined."


async def test_full_refund(gateway: StripeGateway, peer: LocalStripe) -> None:
    intent_id = await _paid_intent(gateway, peer, 120_000)

    refund = await gateway.refund(intent_id, 120_000, "refund-1", "Customer returned the ring")

    assert refund.refund_id is not None
    assert refund.refund_id.startswith("re_")
    assert (refund.status, refund.amount_pence) == ("succeeded", 120_000)
    # localstripe expands `latest_charge` (real Stripe answers its id).
    assert peer.retrieve_intent(intent_id)["latest_charge"]["amount_refunded"] == 120_000


async def test_partial_refunds_add_up(gateway: StripeGateway, peer: LocalStripe) -> None:
    intent_id = await _paid_intent(gateway, peer, 120_000)

    first = await gateway.refund(intent_id, 20_000, "refund-a", "Engraving fee")
    second = await gateway.refund(intent_id, 30_000, "refund-b", "Goodwill")

    assert (first.amount_pence, second.amount_pence) == (20_000, 30_000)
    assert first.refund_id != second.refund_id
    assert peer.retrieve_intent(intent_id)["latest_charge"]["amount_refunded"] == 50_000


async def test_refund_of_an_unpaid_intent_is_refused(gateway: StripeGateway) -> None:
    intent_id = await _create(gateway)

    with pytest.raises(PaymentProviderError) as caught:
        await gateway.refund(intent_id, 1_000, "refund-x", "nothing to refund")

    assert caught.value.retryable is False


async def test_refund_needs_an_intent_and_a_positive_amount(gateway: StripeGateway) -> None:
    with pytest.raises(PaymentProviderError):
        await gateway.refund(None, 1_000, "refund-y", "bank order")
    with pytest.raises(ValueError, match="positive"):
        await gateway.refund("pi_123", 0, "refund-z", "zero")


async def test_cancel_is_idempotent(gateway: StripeGateway) -> None:
    intent_id = await _create(gateway)

    await gateway.cancel_payment(intent_id)
    await gateway.cancel_payment(intent_id)

    assert (await gateway.retrieve_payment(intent_id)).status == IntentStatus.CANCELED


async def test_cancel_of_a_paid_intent_fails(gateway: StripeGateway, peer: LocalStripe) -> None:
    intent_id = await _paid_intent(gateway, peer, 5_000)

    with pytest.raises(PaymentProviderError) as caught:
        await gateway.cancel_payment(intent_id)

    assert caught.value.retryable is False
    assert (await gateway.retrieve_payment(intent_id)).status == IntentStatus.SUCCEEDED


async def test_unknown_intent_is_a_permanent_provider_error(gateway: StripeGateway) -> None:
    with pytest.raises(PaymentProviderError) as caught:
        await gateway.retrieve_payment("pi_doesnotexist")

    assert caught.value.retryable is False
    assert caught.value.status == 502


async def test_rejected_api_key_is_a_permanent_provider_error(peer: LocalStripe) -> None:
    gateway = StripeGateway("pk_test_not_secret", STRIPE_WEBHOOK_SECRET, api_base=peer.api_base)
    try:
        with pytest.raises(PaymentProviderError) as caught:
            await _create(gateway)
        assert caught.value.retryable is False
    finally:
        await gateway.aclose()


async def test_unreachable_stripe_is_a_retryable_provider_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gateway = StripeGateway(
        SECRET_KEY,
        STRIPE_WEBHOOK_SECRET,
        api_base=f"http://127.0.0.1:{port}",
        max_network_retries=0,
    )
    try:
        with pytest.raises(PaymentProviderError) as caught:
            await _create(gateway)
        assert caught.value.retryable is True
    finally:
        await gateway.aclose()


def test_card_errors_become_declines() -> None:
    card_error = stripe.CardError(  # type: ignore[no-untyped-call]
        "Your card has insufficient funds.", None, "card_declined", http_status=402
    )

    with pytest.raises(PaymentDeclinedError) as caught, _translate_errors():
        raise card_error

    assert caught.value.status == 402
    assert caught.value.detail == "Your card has insufficient funds."
    assert caught.value.decline_code == "card_declined"


# --- Webhooks from localstripe -----------------------------------------------------------------


async def test_succeeded_webhook_is_verified_and_translated(
    gateway: StripeGateway, peer: LocalStripe, receiver: WebhookReceiver
) -> None:
    peer.register_webhook(receiver.url, STRIPE_WEBHOOK_SECRET, events=PI_EVENTS)
    intent_id = await _paid_intent(gateway, peer, 275_000)

    delivery = await receiver.await_for(_for_intent(intent_id, "payment_intent.succeeded"))
    event = gateway.parse_webhook(delivery.body, delivery.headers["stripe-signature"])

    assert event.type == GatewayEventType.PAYMENT_SUCCEEDED
    assert event.id.startswith("evt_")
    assert event.intent_id == intent_id
    assert (event.amount_pence, event.currency) == (275_000, "GBP")
    assert event.metadata["order_number"] == "ELY-2026-000123"
    assert event.refunded_amount_pence is None
    assert event.raw["id"] == event.id


async def test_failed_webhook_is_translated(
    gateway: StripeGateway, peer: LocalStripe, receiver: WebhookReceiver
) -> None:
    peer.register_webhook(receiver.url, STRIPE_WEBHOOK_SECRET, events=PI_EVENTS)
    intent_id = await _create(gateway)
    peer.confirm_with_card(intent_id, "pm_card_chargeCustomerFail")

    delivery = await receiver.await_for(_for_intent(intent_id, "payment_intent.payment_failed"))
    event = gateway.parse_webhook(delivery.body, delivery.headers["stripe-signature"])

    assert event.type == GatewayEventType.PAYMENT_FAILED
    assert event.intent_id == intent_id


async def test_tampered_or_wrongly_signed_delivery_is_rejected(
    gateway: StripeGateway, peer: LocalStripe, receiver: WebhookReceiver
) -> None:
    peer.register_webhook(receiver.url, STRIPE_WEBHOOK_SECRET, events=PI_EVENTS)
    intent_id = await _paid_intent(gateway, peer, 10_000)
    delivery = await receiver.await_for(_for_intent(intent_id, "payment_intent.succeeded"))
    signature = delivery.headers["stripe-signature"]
    tampered = delivery.body.replace(b"10000", b"10")
    assert tampered != delivery.body
    stranger = StripeGateway(SECRET_KEY, "whsec_someone_else", api_base=peer.api_base)

    with pytest.raises(InvalidWebhookSignatureError):
        gateway.parse_webhook(tampered, signature)
    with pytest.raises(InvalidWebhookSignatureError):
        stranger.parse_webhook(delivery.body, signature)
    with pytest.raises(InvalidWebhookSignatureError):
        gateway.parse_webhook(delivery.body, None)
    await stranger.aclose()


# --- Webhooks localstripe does not send, signed here as Stripe signs them ----------------------


def _event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": "evt_local", "object": "event", "type": event_type, "data": {"object": obj}}


async def test_charge_refunded_maps_to_a_refund_event(gateway: StripeGateway) -> None:
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 50_000,
        "amount_refunded": 20_000,
        "currency": "gbp",
        "payment_intent": "pi_1",
        "metadata": {"order_id": "o-1", "order_number": "ELY-2026-000001"},
    }
    payload, header = signed_event(_event("charge.refunded", charge))

    event = gateway.parse_webhook(payload, header)

    assert event.type == GatewayEventType.PAYMENT_REFUNDED
    assert (event.intent_id, event.amount_pence, event.currency) == ("pi_1", 50_000, "GBP")
    assert event.refunded_amount_pence == 20_000
    assert event.metadata["order_id"] == "o-1"


async def test_canceled_and_unknown_events(gateway: StripeGateway) -> None:
    intent = {"id": "pi_2", "object": "payment_intent", "amount": 900, "currency": "gbp"}
    canceled = gateway.parse_webhook(*signed_event(_event("payment_intent.canceled", intent)))
    other = gateway.parse_webhook(*signed_event(_event("customer.created", {"id": "cus_1"})))

    assert (canceled.type, canceled.intent_id) == (GatewayEventType.PAYMENT_CANCELLED, "pi_2")
    assert (other.type, other.intent_id, other.amount_pence) == ("customer.created", None, None)


@pytest.mark.parametrize(
    ("payload", "header"),
    [
        pytest.param(*signed_event(_event("customer.created", {}), age=3600), id="stale"),
        pytest.param(b"not json", signed_event({})[1], id="signature-for-other-body"),
        pytest.param(b"{}", "garbage", id="malformed-header"),
    ],
)
async def test_bad_signatures_are_rejected(
    gateway: StripeGateway, payload: bytes, header: str
) -> None:
    with pytest.raises(InvalidWebhookSignatureError):
        gateway.parse_webhook(payload, header)


async def test_signed_non_json_body_is_rejected(gateway: StripeGateway) -> None:
    body = b"not json"
    with pytest.raises(InvalidWebhookSignatureError):
        gateway.parse_webhook(body, stripe_signature(body))
