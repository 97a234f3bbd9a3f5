"""The billing port: saved cards, care plan prices and subscriptions at a card provider.

A second, narrower protocol beside `PaymentGateway`: only a card provider implements it
(`StripeGateway`), bank transfers cannot. Results are plain dataclasses, so nothing outside
the adapter sees a provider's objects; times are Unix seconds as providers send them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from elysium.errors import ConflictError
from elysium.models.subscription import PlanInterval, SubscriptionStatus
from elysium.payments.gateway import PaymentGateway, PaymentIntentResult


class BillingEventType(StrEnum):
    """Provider-neutral names of the billing webhook events ELYSIUM acts on."""

    CARD_SETUP_SUCCEEDED = "card_setup.succeeded"
    CARD_ATTACHED = "card.attached"
    CARD_DETACHED = "card.detached"
    SUBSCRIPTION_CHANGED = "subscription.changed"
    INVOICE_PAID = "invoice.paid"
    INVOICE_PAYMENT_FAILED = "invoice.payment_failed"
    INVOICE_UPCOMING = "invoice.upcoming"


BILLING_EVENT_TYPES = frozenset(BillingEventType)


class BillingUnavailableError(ConflictError):
    """The configured payment provider cannot keep cards or run subscriptions (409: the
    shop's set-up, not an outage)."""

    type_slug = "billing-unavailable"
    title = "Card billing unavailable"


@dataclass(frozen=True, slots=True)
class CardSetup:
    """A started card set-up: the browser confirms it with Stripe.js and `client_secret`."""

    setup_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class CardDetails:
    """A saved card as the client recognises it; never the number."""

    payment_method_id: str
    customer_id: str | None
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class PlanPrice:
    """A care plan's provider records: the product and its current recurring price."""

    product_id: str
    price_id: str


@dataclass(frozen=True, slots=True)
class ProviderSubscription:
    """A subscription as the provider has it, its status already in ELYSIUM's vocabulary."""

    subscription_id: str
    customer_id: str
    status: SubscriptionStatus
    cancel_at_period_end: bool
    current_period_end: int | None
    trial_end: int | None
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class InvoiceDetails:
    """A subscription invoice, paid or failed; an upcoming one has no id yet (empty)."""

    invoice_id: str
    subscription_id: str | None
    customer_id: str | None
    amount_pence: int
    currency: str


@dataclass(frozen=True, slots=True)
class BillingEvent:
    """A verified billing event; exactly the part its `type` needs is set."""

    id: str
    type: BillingEventType
    created: int
    setup_payment_method_id: str | None = None
    card: CardDetails | None = None
    subscription: ProviderSubscription | None = None
    invoice: InvoiceDetails | None = None


@runtime_checkable
class BillingGateway(Protocol):
    """What care plans and saved cards need from a card provider; calls may raise
    `PaymentProviderError` (or `PaymentDeclinedError` when a card is refused)."""

    @property
    def provider(self) -> str:
        """The provider's name, as saved cards record it."""
        ...

    async def create_customer(self, user_id: UUID, email: str, idempotency_key: str) -> str:
        """A new customer for the client; the same key never makes two."""
        ...

    async def start_card_setup(self, customer_id: str, user_id: UUID) -> CardSetup:
        """Start saving a card for later, off-session payments."""
        ...

    async def retrieve_card(self, payment_method_id: str) -> CardDetails: ...

    async def detach_card(self, payment_method_id: str) -> None:
        """Remove the card from its customer; one already detached is left as it is."""
        ...

    async def set_default_card(self, customer_id: str, payment_method_id: str) -> None:
        """The card invoices (subscriptions) are charged to."""
        ...

    async def save_plan_product(
        self, product_id: str | None, name: str, description: str, active: bool, key: str
    ) -> str:
        """Create (no `product_id`) or update the plan's product; returns its id."""
        ...

    async def create_plan_price(
        self,
        product_id: str,
        amount_pence: int,
        currency: str,
        interval: PlanInterval,
        plan_id: UUID,
        key: str,
    ) -> str:
        """A new recurring price (prices cannot change: a new one replaces the old)."""
        ...

    async def retire_plan_price(self, price_id: str) -> None:
        """No new subscriptions on this price; existing ones carry on."""
        ...

    async def create_subscription(
        self,
        customer_id: str,
        price_id: str,
        trial_days: int,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> ProviderSubscription:
        """Subscribe, charging the customer's default card off-session."""
        ...

    async def retrieve_subscription(self, subscription_id: str) -> ProviderSubscription: ...

    async def pause_subscription(self, subscription_id: str) -> ProviderSubscription:
        """Stop collecting payments until resumed."""
        ...

    async def resume_subscription(self, subscription_id: str) -> ProviderSubscription: ...

    async def cancel_subscription_at_period_end(
        self, subscription_id: str
    ) -> ProviderSubscription: ...

    async def cancel_subscription_now(self, subscription_id: str) -> ProviderSubscription:
        """End the subscription at once (no further charges); one already ended is kept."""
        ...

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
        """Pay an order with a saved card, confirmed at once (off-session where allowed)."""
        ...

    def billing_event(self, raw: dict[str, Any]) -> BillingEvent | None:
        """Translate a verified, stored event; None when it is not a billing event."""
        ...


def billing_gateway(gateway: PaymentGateway) -> BillingGateway:
    """The gateway's billing side; 409 when the configured provider has none."""
    if not isinstance(gateway, BillingGateway):
        raise BillingUnavailableError(
            "Saved cards and care plans need card payments, which are not enabled here."
        )
    return gateway
