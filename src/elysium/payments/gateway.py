"""The payment gateway port: what checkout and orders need from a payment provider.

Services talk to a `PaymentGateway`; `StripeGateway` (in `stripe_gateway.py`) and
`BankTransferGateway` (here) implement it. Results are plain dataclasses so nothing outside
the adapters sees a provider's own objects. Amounts are integer pence; currencies are
upper-case ISO codes (`"GBP"`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from elysium.errors import BadGatewayError, ElysiumError
from elysium.kit.money import pence_to_str


class IntentStatus(StrEnum):
    """A payment's status at the provider: Stripe's PaymentIntent vocabulary (with its American
    "canceled") plus bank transfer's own. Not our `PaymentState`, which the payments table keeps."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    AWAITING_TRANSFER = "awaiting_transfer"


class GatewayEventType(StrEnum):
    """Provider-neutral names of the webhook events ELYSIUM acts on.

    Any other event keeps the provider's own type string (e.g. `customer.created`), so a
    handler can record and ignore it.
    """

    PAYMENT_PROCESSING = "payment.processing"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELLED = "payment.cancelled"
    PAYMENT_REFUNDED = "payment.refunded"


class PaymentProviderError(BadGatewayError):
    """The provider failed or answered unexpectedly; `retryable` when trying again may help."""

    type_slug = "payment-provider-error"
    title = "Payment provider error"

    def __init__(
        self, detail: str, *, retryable: bool = True, retry_after: int | None = None
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__(detail, headers=headers)
        self.retryable = retryable
        self.retry_after = retry_after


class PaymentDeclinedError(ElysiumError):
    """The customer's bank or card issuer refused the payment."""

    status = 402
    type_slug = "payment-declined"
    title = "Payment declined"

    def __init__(self, detail: str, *, decline_code: str | None = None) -> None:
        super().__init__(detail, extra={"decline_code": decline_code} if decline_code else None)
        self.decline_code = decline_code


class InvalidWebhookSignatureError(ElysiumError):
    """A webhook whose signature (or body) does not verify; never act on it."""

    status = 400
    type_slug = "invalid-webhook-signature"
    title = "Invalid webhook signature"


class MalformedWebhookEventError(InvalidWebhookSignatureError):
    """A correctly signed body that is not an event (no `id`, no object): refused, never kept."""

    type_slug = "invalid-webhook-event"
    title = "Invalid webhook event"


@dataclass(frozen=True, slots=True)
class PaymentIntentResult:
    """A payment as the provider sees it.

    `status` is an `IntentStatus` value. `instructions` is set for bank transfers (what the
    customer must pay, where, with which reference); `redirect_url` when the provider needs
    the customer to visit a page (e.g. 3-D Secure by redirect). `failure_message` explains
    the last failed attempt, when there was one.
    """

    provider: str
    intent_id: str | None
    client_secret: str | None
    status: str
    amount_pence: int
    currency: str
    redirect_url: str | None = None
    instructions: dict[str, str] | None = None
    failure_message: str | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    """A refund: `refund_id` is None for manual (bank) refunds, which start `pending`."""

    refund_id: str | None
    status: str
    amount_pence: int


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """A verified webhook event, provider-neutral.

    `type` is a `GatewayEventType` value for the events ELYSIUM acts on, else the provider's
    own type. `refunded_amount_pence` is the cumulative amount refunded so far (refund
    events only); `failure_message` says why a payment failed (failure events). `raw` is the
    whole event as sent, for the webhook log.
    """

    id: str
    type: str
    intent_id: str | None
    amount_pence: int | None
    currency: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    refunded_amount_pence: int | None = None
    failure_message: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class PaymentGateway(Protocol):
    """What the shop needs from a payment provider. Every call may raise `PaymentProviderError`."""

    @property
    def provider(self) -> str:
        """The provider's name, as payments record it (`stripe`, `bank_transfer`)."""
        ...

    @property
    def calls_provider(self) -> bool:
        """Whether starting a payment goes out to a provider. Bank transfers stay in-house, so
        their payment row can be written in the order's own transaction."""
        ...

    async def aclose(self) -> None:
        """Release the gateway's connections (a no-op when it holds none)."""
        ...

    async def create_payment(
        self,
        order_id: UUID,
        order_number: str,
        amount_pence: int,
        currency: str,
        customer_email: str,
        idempotency_key: str,
    ) -> PaymentIntentResult:
        """Start collecting `amount_pence` for an order; the same key never charges twice."""
        ...

    async def retrieve_payment(self, intent_id: str) -> PaymentIntentResult:
        """The payment's current state at the provider."""
        ...

    async def refund(
        self, intent_id: str | None, amount_pence: int, idempotency_key: str, reason: str
    ) -> RefundResult:
        """Refund part or all of a payment; callers must refuse over-refunds themselves."""
        ...

    async def cancel_payment(self, intent_id: str | None) -> None:
        """Abandon an unpaid payment; cancelling an already cancelled one is a no-op."""
        ...

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> GatewayEvent:
        """Verify and translate a webhook; raises `InvalidWebhookSignatureError`."""
        ...


BANK_DETAIL_KEYS = ("account_name", "sort_code", "account_number", "iban", "bic")


class BankTransferGateway:
    """Payment by bank transfer: the customer pays with the order number as reference.

    Nothing happens at a provider: staff confirm the funds by hand (order status `PAID`) and
    pay refunds back by bank, so refunds stay `pending` until they do.
    """

    provider = "bank_transfer"
    calls_provider = False

    def __init__(self, bank_details: Mapping[str, str]) -> None:
        missing = [key for key in BANK_DETAIL_KEYS if not bank_details.get(key)]
        if missing:
            raise ValueError(f"bank details missing: {', '.join(missing)}")
        self._bank_details = {key: bank_details[key] for key in BANK_DETAIL_KEYS}

    async def create_payment(
        self,
        order_id: UUID,
        order_number: str,
        amount_pence: int,
        currency: str,
        customer_email: str,
        idempotency_key: str,
    ) -> PaymentIntentResult:
        """Payment instructions for the customer; the reference is the order number."""
        instructions = {
            **self._bank_details,
            "amount": pence_to_str(amount_pence),
            "currency": currency.upper(),
            "reference": order_number,
        }
        return PaymentIntentResult(
            provider=self.provider,
            intent_id=None,
            client_secret=None,
            status=IntentStatus.AWAITING_TRANSFER,
            amount_pence=amount_pence,
            currency=currency.upper(),
            instructions=instructions,
        )

    async def retrieve_payment(self, intent_id: str) -> PaymentIntentResult:
        """Bank transfers have nothing to look up: the order itself is the record."""
        raise PaymentProviderError("bank transfers have no provider-side payment", retryable=False)

    async def refund(
        self, intent_id: str | None, amount_pence: int, idempotency_key: str, reason: str
    ) -> RefundResult:
        """A manual refund that staff pay back by bank transfer."""
        if amount_pence <= 0:
            raise ValueError("refund amount must be positive")
        return RefundResult(refund_id=None, status="pending", amount_pence=amount_pence)

    async def cancel_payment(self, intent_id: str | None) -> None:
        """Nothing to cancel: an unpaid transfer simply never arrives."""

    async def aclose(self) -> None:
        """Nothing to close."""

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> GatewayEvent:
        """Bank transfers send no webhooks, so any delivery is refused."""
        raise InvalidWebhookSignatureError("bank transfers have no webhooks")
