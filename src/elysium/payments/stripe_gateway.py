"""Stripe behind the `PaymentGateway` and `BillingGateway` ports: the only module that imports
`stripe`.

The same code runs against real Stripe and a Stripe-compatible test server (localstripe,
reached through `api_base`). To keep that path identical, requests carry only parameters both
accept: PaymentIntents are created with `amount`, `currency` and `metadata` only. In
particular `receipt_email` is not sent (localstripe answers 400 to it, and ELYSIUM sends its
own order emails), no `description`, and no `automatic_payment_methods` (real Stripe enables
it by default on current API versions). Refunds put the staff's free-text reason in metadata,
because Stripe's `reason` only takes a fixed set of codes and localstripe rejects it.

Billing (saved cards, care plans, subscriptions) uses the parts both servers share: Customers,
SetupIntents, PaymentMethods, Products, Plans (Stripe's Plans API creates Prices) and
Subscriptions. A new subscription is charged to the customer's default card
(`invoice_settings.default_payment_method`) rather than a `default_payment_method` of its own,
which localstripe refuses; pausing uses `pause_collection`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from typing import Any
from uuid import UUID

import stripe
from stripe.params import (
    PaymentIntentCreateParams,
    PlanCreateParams,
    ProductCreateParams,
    ProductUpdateParams,
    SubscriptionCreateParams,
    SubscriptionUpdateParams,
)

from elysium.kit.breakers import CircuitOpenError, Provider, breaker
from elysium.models.subscription import PlanInterval, SubscriptionStatus
from elysium.payments.billing import (
    BillingEvent,
    BillingEventType,
    CardDetails,
    CardSetup,
    InvoiceDetails,
    ProviderSubscription,
)
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

BILLING_EVENT_TYPES = {
    "setup_intent.succeeded": BillingEventType.CARD_SETUP_SUCCEEDED,
    "payment_method.attached": BillingEventType.CARD_ATTACHED,
    "payment_method.updated": BillingEventType.CARD_ATTACHED,
    "payment_method.automatically_updated": BillingEventType.CARD_ATTACHED,
    "payment_method.detached": BillingEventType.CARD_DETACHED,
    "customer.subscription.created": BillingEventType.SUBSCRIPTION_CHANGED,
    "customer.subscription.updated": BillingEventType.SUBSCRIPTION_CHANGED,
    "customer.subscription.deleted": BillingEventType.SUBSCRIPTION_CHANGED,
    "customer.subscription.paused": BillingEventType.SUBSCRIPTION_CHANGED,
    "customer.subscription.resumed": BillingEventType.SUBSCRIPTION_CHANGED,
    "invoice.paid": BillingEventType.INVOICE_PAID,
    "invoice.payment_succeeded": BillingEventType.INVOICE_PAID,  # sent as well as (or instead of)
    "invoice.payment_failed": BillingEventType.INVOICE_PAYMENT_FAILED,
    "invoice.upcoming": BillingEventType.INVOICE_UPCOMING,
}

SUBSCRIPTION_STATUSES = {
    "incomplete": SubscriptionStatus.INCOMPLETE,
    "incomplete_expired": SubscriptionStatus.CANCELLED,
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAUSED,
    "canceled": SubscriptionStatus.CANCELLED,
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
        async with _guarded():
            intent = await self._client.v1.payment_intents.create_async(
                {"amount": amount_pence, "currency": currency.lower(), "metadata": metadata},
                {"idempotency_key": idempotency_key},
            )
        return intent_result(intent.to_dict())

    async def retrieve_payment(self, intent_id: str) -> PaymentIntentResult:
        """The PaymentIntent as Stripe has it now."""
        async with _guarded():
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
        async with _guarded():
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
            async with _guarded():
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

    # --- billing: saved cards, care plans, subscriptions -----------------------------------

    async def create_customer(self, user_id: UUID, email: str, idempotency_key: str) -> str:
        """A Customer for the client, found again by its `user_id` metadata."""
        async with _guarded():
            customer = await self._client.v1.customers.create_async(
                {"email": email, "metadata": {"user_id": str(user_id)}},
                {"idempotency_key": idempotency_key},
            )
        return str(customer.id)

    async def start_card_setup(self, customer_id: str, user_id: UUID) -> CardSetup:
        """A SetupIntent for off-session use; Stripe attaches the card once it is confirmed."""
        async with _guarded():
            intent = await self._client.v1.setup_intents.create_async(
                {
                    "customer": customer_id,
                    "usage": "off_session",
                    "metadata": {"user_id": str(user_id)},
                }
            )
        return CardSetup(setup_id=str(intent.id), client_secret=str(intent.client_secret))

    async def retrieve_card(self, payment_method_id: str) -> CardDetails:
        async with _guarded():
            method = await self._client.v1.payment_methods.retrieve_async(payment_method_id)
        return card_details(method.to_dict())

    async def detach_card(self, payment_method_id: str) -> None:
        """Detach the card; one already detached (or gone) is left as it is."""
        try:
            async with _guarded():
                await self._client.v1.payment_methods.detach_async(payment_method_id)
        except PaymentProviderError as exc:
            if exc.retryable:
                raise
            if (await self.retrieve_card(payment_method_id)).customer_id is not None:
                raise

    async def set_default_card(self, customer_id: str, payment_method_id: str) -> None:
        async with _guarded():
            await self._client.v1.customers.update_async(
                customer_id, {"invoice_settings": {"default_payment_method": payment_method_id}}
            )

    async def save_plan_product(
        self, product_id: str | None, name: str, description: str, active: bool, key: str
    ) -> str:
        """Create or update the Product of a care plan."""
        params: ProductCreateParams = {"name": name, "active": active}
        if description:
            params["description"] = description
        async with _guarded():
            if product_id is None:
                product = await self._client.v1.products.create_async(
                    params, {"idempotency_key": key}
                )
            else:
                update: ProductUpdateParams = {"name": name, "active": active}
                if description:
                    update["description"] = description
                product = await self._client.v1.products.update_async(product_id, update)
        return str(product.id)

    async def create_plan_price(
        self,
        product_id: str,
        amount_pence: int,
        currency: str,
        interval: PlanInterval,
        plan_id: UUID,
        key: str,
    ) -> str:
        """A recurring price through the Plans API (a Plan is a Price to Stripe)."""
        params: PlanCreateParams = {
            "product": product_id,
            "amount": amount_pence,
            "currency": currency.lower(),
            "interval": interval.value,
            "metadata": {"care_plan_id": str(plan_id)},
        }
        async with _guarded():
            plan = await self._client.v1.plans.create_async(params, {"idempotency_key": key})
        return str(plan.id)

    async def retire_plan_price(self, price_id: str) -> None:
        async with _guarded():
            await self._client.v1.plans.update_async(price_id, {"active": False})

    async def create_subscription(
        self,
        customer_id: str,
        price_id: str,
        trial_days: int,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> ProviderSubscription:
        """Subscribe; the first invoice is charged to the customer's default card at once."""
        params: SubscriptionCreateParams = {
            "customer": customer_id,
            "items": [{"plan": price_id}],
            "metadata": metadata,
        }
        if trial_days:
            params["trial_period_days"] = trial_days
        async with _guarded():
            created = await self._client.v1.subscriptions.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        return provider_subscription(created.to_dict())

    async def retrieve_subscription(self, subscription_id: str) -> ProviderSubscription:
        async with _guarded():
            found = await self._client.v1.subscriptions.retrieve_async(subscription_id)
        return provider_subscription(found.to_dict())

    async def pause_subscription(self, subscription_id: str) -> ProviderSubscription:
        """Pause collection: invoices during the pause are voided, nothing is charged."""
        return await self._update_subscription(
            subscription_id, {"pause_collection": {"behavior": "void"}}
        )

    async def resume_subscription(self, subscription_id: str) -> ProviderSubscription:
        return await self._update_subscription(subscription_id, {"pause_collection": ""})

    async def cancel_subscription_at_period_end(self, subscription_id: str) -> ProviderSubscription:
        return await self._update_subscription(subscription_id, {"cancel_at_period_end": True})

    async def cancel_subscription_now(self, subscription_id: str) -> ProviderSubscription:
        """Cancel at once; one already cancelled is returned as it is."""
        current = await self.retrieve_subscription(subscription_id)
        if current.status == SubscriptionStatus.CANCELLED:
            return current
        async with _guarded():
            ended = await self._client.v1.subscriptions.cancel_async(subscription_id)
        return provider_subscription(ended.to_dict())

    async def _update_subscription(
        self, subscription_id: str, params: SubscriptionUpdateParams
    ) -> ProviderSubscription:
        async with _guarded():
            updated = await self._client.v1.subscriptions.update_async(subscription_id, params)
        return provider_subscription(updated.to_dict())

    async def charge_saved_card(
        self,
        order_id: UUID,
        order_number: str,
        amount_pence: int,
        currency: str,
        customer_id: str,
        payment_method_id: str,
        idempotency_key: str,
    ) -> PaymentIntentResult:
        """A PaymentIntent confirmed at once with a saved card, off-session: the bank may
        still ask for authentication, and then the intent says so (`requires_action`)."""
        params: PaymentIntentCreateParams = {
            "amount": amount_pence,
            "currency": currency.lower(),
            "metadata": {"order_id": str(order_id), "order_number": order_number},
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "off_session": True,
        }
        try:
            async with _guarded():
                intent = await self._client.v1.payment_intents.create_async(
                    params, {"idempotency_key": idempotency_key}
                )
        except PaymentDeclinedError as exc:
            failed = _declined_intent(exc)
            if failed is None:
                raise
            return intent_result(failed)
        return intent_result(intent.to_dict())

    def billing_event(self, raw: dict[str, Any]) -> BillingEvent | None:
        return billing_event(raw)


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
        type=EVENT_TYPES.get(kind) or BILLING_EVENT_TYPES.get(kind) or kind,
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


def card_details(method: Mapping[str, Any]) -> CardDetails:
    """Translate a card PaymentMethod (as a plain dict) into `CardDetails`."""
    card = method.get("card") or {}
    return CardDetails(
        payment_method_id=method["id"],
        customer_id=method.get("customer"),
        brand=str(card.get("brand") or "card"),
        last4=str(card.get("last4") or ""),
        exp_month=int(card.get("exp_month") or 1),
        exp_year=int(card.get("exp_year") or 0),
    )


def provider_subscription(sub: Mapping[str, Any]) -> ProviderSubscription:
    """Translate a Subscription; a paused collection reads as `paused`. The period end is on
    the subscription in older API versions and on its items in newer ones."""
    status = SUBSCRIPTION_STATUSES.get(str(sub.get("status")), SubscriptionStatus.INCOMPLETE)
    if sub.get("pause_collection") and status == SubscriptionStatus.ACTIVE:
        status = SubscriptionStatus.PAUSED
    period_end = sub.get("current_period_end")
    if period_end is None:
        items = (sub.get("items") or {}).get("data") or [{}]
        period_end = items[0].get("current_period_end")
    return ProviderSubscription(
        subscription_id=sub["id"],
        customer_id=str(sub.get("customer")),
        status=status,
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
        current_period_end=period_end,
        trial_end=sub.get("trial_end"),
        metadata={str(k): str(v) for k, v in (sub.get("metadata") or {}).items()},
    )


def invoice_details(invoice: Mapping[str, Any]) -> InvoiceDetails:
    """Translate an Invoice; its subscription is at the top in older API versions and under
    `parent.subscription_details` in newer ones."""
    subscription = invoice.get("subscription")
    if subscription is None:
        details = (invoice.get("parent") or {}).get("subscription_details") or {}
        subscription = details.get("subscription")
    if isinstance(subscription, Mapping):
        subscription = subscription.get("id")
    amount = invoice.get("amount_paid") or invoice.get("amount_due") or 0
    return InvoiceDetails(
        invoice_id=str(invoice.get("id") or ""),
        subscription_id=subscription,
        customer_id=invoice.get("customer"),
        amount_pence=int(amount),
        currency=str(invoice.get("currency") or "gbp").upper(),
    )


def billing_event(raw: Mapping[str, Any]) -> BillingEvent | None:
    """Translate a verified Stripe event into a `BillingEvent`; None for any other event."""
    kind = BILLING_EVENT_TYPES.get(str(raw.get("type", "")))
    if kind is None:
        return None
    obj: Mapping[str, Any] = (raw.get("data") or {}).get("object") or {}
    event = BillingEvent(id=raw["id"], type=kind, created=int(raw.get("created") or 0))
    if kind == BillingEventType.CARD_SETUP_SUCCEEDED:
        method = obj.get("payment_method")
        method_id = method.get("id") if isinstance(method, Mapping) else method
        return replace(event, setup_payment_method_id=method_id)
    if kind in (BillingEventType.CARD_ATTACHED, BillingEventType.CARD_DETACHED):
        return replace(event, card=card_details(obj))
    if kind == BillingEventType.SUBSCRIPTION_CHANGED:
        return replace(event, subscription=provider_subscription(obj))
    return replace(event, invoice=invoice_details(obj))


def _declined_intent(exc: PaymentDeclinedError) -> dict[str, Any] | None:
    """The PaymentIntent a declined confirmation left behind, when Stripe names it."""
    cause = exc.__cause__
    error = getattr(cause, "error", None)
    intent = getattr(error, "payment_intent", None) if error is not None else None
    if intent is None:
        return None
    return dict(intent.to_dict() if hasattr(intent, "to_dict") else intent)


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


@asynccontextmanager
async def _guarded() -> AsyncIterator[None]:
    """A call to Stripe through its circuit breaker, its errors translated. While Stripe keeps
    failing the breaker is open and calls fail at once (a retryable provider error)."""
    try:
        async with breaker(Provider.STRIPE, outage=_is_outage):
            with _translate_errors():
                yield
    except CircuitOpenError as exc:
        detail = f"Stripe is unavailable: {exc}"
        raise PaymentProviderError(detail, retry_after=exc.retry_after) from exc


def _is_outage(exc: BaseException) -> bool:
    return isinstance(exc, PaymentProviderError) and exc.retryable


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
