"""Stripe PaymentIntents behind the `PaymentGateway` port: the only module that imports `stripe`.

The same code runs against real Stripe and a Stripe-compatible test server (localstripe,
reached through `api_base`). To keep that path identical, requests carry only parameters both
accept: PaymentIntents are created with `amount`, `currency` and `metadata` only. In
particular `receipt_email` is not sent (localstripe answers 400 to it, and ELYSIUM sends its
own order emails), no `description`, and no `automatic_payment_methods` (real Stripe enables
it by default on current API versions). Refunds put the staff's free-text reason in metadata,
because Stripe's `reason` only takes a fixed set of codes and localstripe rejects it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import stripe

from elysium.payments.gateway import (
    GatewayEvent,
    GatewayEventType,
    IntentStatus,
    InvalidWebhookSignatureError,
    MalformedWebhookEventError,
    PaymentDeclinedError,
    PaymentIntentResult,
    PaymentProviderError,
    RefundResult,
)

EVENT_TYPES = {
    "payment_intent.processing": GatewayEventType.PAYMENT_PROCESSING,
    "payment_intent.succeeded": GatewayEventType.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": GatewayEventType.PAYMENT_FAILED,
    "payment_intent.canceled": GatewayEventType.PAYMENT_CANCELLED,
    "charge.refunded": GatewayEventType.PAYMENT_REFUNDED,
}


class StripeGateway:
    """Card payments through Stripe PaymentIntents, confirmed in the browser by Stripe.js."""

    provider = "stripe"
    calls_provider = True

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        *,
        timeout_seconds: float = 20.0,
        max_network_retries: int = 2,
    ) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=self._http,
        )
        self._webhook_secret = webhook_secret

    async def aclose(self) -> None:
        """Close the pooled HTTP connections (call on application shutdown)."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in stripe

    async def create_payment(
        self,
        order_id: UUID,
        order_number: str,
        amount_pence: int,
        currency: str,
        customer_email: str,
        idempotency_key: str,
    ) -> PaymentIntentResult:
        """Create a PaymentIntent for the browser to confirm; `customer_email` is not sent."""
        metadata = {"order_id": str(order_id), "order_number": order_number}
        with _translate_errors():
            intent = await self._client.v1.payment_intents.create_async(
                {"amount": amount_pence, "currency": currency.lower(), "metadata": metadata},
                {"idempotency_key": idempotency_key},
            )
        return intent_result(intent.to_dict())

    async def retrieve_payment(self, intent_id: str) -> PaymentIntentResult:
        """The PaymentIntent as Stripe has it now."""
        with _translate_errors():
            intent = await self._client.v1.payment_intents.retrieve_async(intent_id)
        return intent_result(intent.to_dict())

    async def refund(
        self, intent_id: str | None, amount_pence: int, idempotency_key: str, reason: str
    ) -> RefundResult:
        """Refund `amount_pence` of a paid intent; the reason goes in the refund's metadata."""
        if intent_id is None:
            raise PaymentProviderError("no PaymentIntent to refund", retryable=False)
        if amount_pence <= 0:
            raise ValueError("refund amount must be positive")
        metadata = {"reason": reason[:500]}  # Stripe caps metadata values at 500 characters
        with _translate_errors():
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": intent_id, "amount": amount_pence, "metadata": metadata},
                {"idempotency_key": idempotency_key},
            )
        return RefundResult(
            refund_id=refund.id, status=refund.status or "pending", amount_pence=refund.amount
        )

    async def cancel_payment(self, intent_id: str | None) -> None:
        """Cancel an unpaid intent; one already cancelled is left as it is."""
        if intent_id is None:
            return
        try:
            with _translate_errors():
                await self._client.v1.payment_intents.cancel_async(intent_id)
        except PaymentProviderError as exc:
            if exc.retryable:
                raise
            current = await self.retrieve_payment(intent_id)
            if current.status != IntentStatus.CANCELED:
                raise

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> GatewayEvent:
        """Verify the `Stripe-Signature` header and translate the event."""
        try:
            event = self._client.construct_event(payload, signature_header, self._webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidWebhookSignatureError("Stripe webhook signature did not verify") from exc
        return gateway_event(event.to_dict())


def intent_result(intent: Mapping[str, Any]) -> PaymentIntentResult:
    """Translate a PaymentIntent (as a plain dict) into a `PaymentIntentResult`."""
    error = intent.get("last_payment_error") or {}
    return PaymentIntentResult(
        provider=StripeGateway.provider,
        intent_id=intent["id"],
        client_secret=intent.get("client_secret"),
        status=intent["status"],
        amount_pence=intent["amount"],
        currency=str(intent["currency"]).upper(),
        redirect_url=_redirect_url(intent.get("next_action")),
        failure_message=error.get("message"),
    )


def gateway_event(raw: dict[str, Any]) -> GatewayEvent:
    """Translate a verified Stripe event (as a plain dict) into a `GatewayEvent`.

    A signed body that is not an event (no `id`, no `data.object`) is refused with a 400:
    nothing can be recorded once for it.
    """
    data = raw.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    event_id = raw.get("id")
    if not (isinstance(event_id, str) and event_id and isinstance(obj, Mapping)):
        raise MalformedWebhookEventError("The signed body is not a Stripe event.")
    kind = str(raw.get("type", ""))
    metadata = obj.get("metadata")
    currency = obj.get("currency")
    return GatewayEvent(
        id=event_id,
        type=EVENT_TYPES.get(kind, kind),
        intent_id=_intent_id(kind, obj),
        amount_pence=obj.get("amount"),
        currency=str(currency).upper() if currency else None,
        metadata={
            str(k): str(v) for k, v in (metadata if isinstance(metadata, Mapping) else {}).items()
        },
        refunded_amount_pence=obj.get("amount_refunded") if kind == "charge.refunded" else None,
        failure_message=(obj.get("last_payment_error") or {}).get("message"),
        raw=raw,
    )


def _intent_id(kind: str, obj: Mapping[str, Any]) -> str | None:
    if kind.startswith("payment_intent."):
        return obj.get("id")
    intent = obj.get("payment_intent")
    if isinstance(intent, Mapping):  # expanded
        return intent.get("id")
    return intent


def _redirect_url(next_action: Mapping[str, Any] | None) -> str | None:
    if not next_action or next_action.get("type") != "redirect_to_url":
        return None
    return (next_action.get("redirect_to_url") or {}).get("url")


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Turn Stripe's exceptions into the gateway's own."""
    try:
        yield
    except stripe.CardError as exc:
        message = exc.user_message or "The card was declined."
        raise PaymentDeclinedError(message, decline_code=_decline_code(exc)) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        raise PaymentProviderError(f"Stripe is unavailable: {exc.user_message}") from exc
    except stripe.StripeError as exc:
        detail = f"Stripe refused the request: {exc.user_message}"
        raise PaymentProviderError(detail, retryable=False) from exc


def _decline_code(exc: stripe.CardError) -> str | None:
    error = exc.error
    decline_code = getattr(error, "decline_code", None) if error is not None else None
    return decline_code or exc.code
