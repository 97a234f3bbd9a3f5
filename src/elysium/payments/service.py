"""Payments, the leaf: the gateway from the settings, payment rows, and starting a payment.

This module knows payments and gateways only. It never reads or moves an order: the orders
domain decides when a payment is started or settled and calls these functions with plain
values. The provider is never called inside a transaction that holds a lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.db import table_of
from elysium.kit.metrics import PAYMENTS
from elysium.models import Payment
from elysium.models.payment import PaymentState
from elysium.payments.billing import billing_gateway
from elysium.payments.gateway import (
    BankTransferGateway,
    PaymentGateway,
    PaymentIntentResult,
    PaymentProviderError,
)
from elysium.payments.schemas import PaymentRead

log = structlog.get_logger(__name__)

BANK_TRANSFER: Final = "bank_transfer"
MANUAL: Final = "manual"
UNAVAILABLE: Final = "unavailable"
OPEN_STATES: Final = (PaymentState.PENDING, PaymentState.PROCESSING, PaymentState.FAILED)


def bank_details(settings: Settings) -> dict[str, str]:
    """The house's bank account, as instructions and emails show it (the one place it is built)."""
    return {
        "account_name": settings.bank_account_name,
        "bank_name": settings.bank_name,
        "sort_code": settings.bank_sort_code,
        "account_number": settings.bank_account_number,
        "iban": settings.bank_iban,
        "bic": settings.bank_bic,
    }


def get_gateway(settings: Settings) -> PaymentGateway:
    """The gateway `PAYMENT_PROVIDER` names, configured from the settings."""
    if settings.payment_provider == "stripe":
        from elysium.payments.stripe_gateway import StripeGateway

        if settings.stripe_secret_key is None or settings.stripe_webhook_secret is None:
            raise ValueError(
                "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"
            )
        return StripeGateway(
            settings.stripe_secret_key.get_secret_value(),
            settings.stripe_webhook_secret.get_secret_value(),
            settings.stripe_api_base,
        )
    return BankTransferGateway(bank_details(settings))


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """What a gateway needs to collect money for an order."""

    order_id: uuid.UUID
    order_number: str
    amount_pence: int
    currency: str
    customer_email: str
    saved_card: SavedCardCharge | None = None


@dataclass(frozen=True, slots=True)
class SavedCardCharge:
    """Pay with a card the client saved: the provider's customer and payment method ids."""

    customer_id: str
    payment_method_id: str


def bank_reference(order_number: str) -> str:
    """The provider id of a bank transfer payment: the order number is the reference."""
    return f"bank:{order_number}"


# --- starting a payment ------------------------------------------------------------------------


async def _open_payment(session: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    return await session.scalar(
        select(Payment)
        .where(Payment.order_id == order_id, Payment.status.in_(OPEN_STATES))
        .order_by(Payment.created_at.desc())
        .limit(1)
    )


async def _attempts(session: AsyncSession, order_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Payment).where(Payment.order_id == order_id)
    )
    return int(count or 0)


async def _ask_gateway(
    session: AsyncSession,
    gateway: PaymentGateway,
    request: PaymentRequest,
    existing: Payment | None,
) -> PaymentIntentResult:
    """The open payment as the provider has it, or a new one (a failed card attempt, or one
    for another amount such as an earlier instalment, is cancelled and replaced, so an old
    client secret can never pay a second time)."""
    card = existing is not None and existing.provider not in (BANK_TRANSFER, MANUAL)
    stale = existing is not None and (
        existing.status == PaymentState.FAILED or existing.amount_pence != request.amount_pence
    )
    if card and existing is not None and not stale:
        return await gateway.retrieve_payment(existing.provider_payment_id)
    if card and existing is not None:
        await gateway.cancel_payment(existing.provider_payment_id)
        existing.status = PaymentState.CANCELLED
    attempt = await _attempts(session, request.order_id)
    return await _create(gateway, request, f"order-{request.order_id}-payment-{attempt}")


async def _create(
    gateway: PaymentGateway, request: PaymentRequest, idempotency_key: str
) -> PaymentIntentResult:
    if request.saved_card is not None:
        return await billing_gateway(gateway).charge_saved_card(
            request.order_id,
            request.order_number,
            request.amount_pence,
            request.currency,
            request.saved_card.customer_id,
            request.saved_card.payment_method_id,
            idempotency_key=idempotency_key,
        )
    return await gateway.create_payment(
        request.order_id,
        request.order_number,
        request.amount_pence,
        request.currency,
        request.customer_email,
        idempotency_key=idempotency_key,
    )


_NEW_PAYMENT = insert(table_of(Payment)).on_conflict_do_nothing(
    index_elements=["provider_payment_id"]
)


async def _insert_payment(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    provider: str,
    provider_payment_id: str,
    amount_pence: int,
    currency: str,
) -> None:
    """A `pending` payment row, unless one with this provider id exists (that one wins)."""
    row = {
        "id": uuid.uuid4(),
        "order_id": order_id,
        "provider": provider,
        "provider_payment_id": provider_payment_id,
        "amount_pence": amount_pence,
        "currency": currency,
        "status": PaymentState.PENDING.value,
    }
    await session.execute(_NEW_PAYMENT, row)


async def _record_payment(
    session: AsyncSession, request: PaymentRequest, result: PaymentIntentResult
) -> None:
    """Remember the payment; a webhook that got here first already wrote it, and wins."""
    await _insert_payment(
        session,
        order_id=request.order_id,
        provider=result.provider,
        provider_payment_id=result.intent_id or bank_reference(request.order_number),
        amount_pence=result.amount_pence,
        currency=result.currency,
    )


def payment_read(result: PaymentIntentResult) -> PaymentRead:
    """What the storefront needs from a gateway's answer."""
    return PaymentRead(
        provider=result.provider,
        status=str(result.status),
        client_secret=result.client_secret,
        payment_intent_id=result.intent_id,
        redirect_url=result.redirect_url,
        instructions=result.instructions,
    )


async def _start_bank_transfer(
    session: AsyncSession, gateway: PaymentGateway, request: PaymentRequest
) -> PaymentRead:
    """Instructions need no provider call, and the payment's id is the order number:
    one idempotent insert."""
    result = await _create(gateway, request, f"order-{request.order_id}-payment")
    await _record_payment(session, request, result)
    return payment_read(result)


async def start_payment(
    session: AsyncSession, gateway: PaymentGateway, request: PaymentRequest, *, retry_url: str
) -> PaymentRead:
    """Create (or look up again) the payment for `request`; with a provider that is called,
    only after the order has committed.

    No lock is held while the provider is asked. When the provider cannot be reached the
    answer says so (`unavailable`, with `retry_url`); nothing is lost.
    """
    if not gateway.calls_provider:
        return await _start_bank_transfer(session, gateway, request)
    existing = await _open_payment(session, request.order_id)
    try:
        result = await _ask_gateway(session, gateway, request, existing)
    except PaymentProviderError as exc:
        log.warning("payment_start_failed", order_id=str(request.order_id), error=exc.detail)
        return PaymentRead(provider=gateway.provider, status=UNAVAILABLE, retry_url=retry_url)
    if existing is None or existing.status == PaymentState.CANCELLED:
        await _record_payment(session, request, result)
    return payment_read(result)


# --- recording what the provider (or staff) reported -------------------------------------------


async def _locked_payment(session: AsyncSession, provider_payment_id: str) -> Payment | None:
    """The payment with this provider id, locked and read afresh for the caller's transaction."""
    return await session.scalar(
        select(Payment)
        .where(Payment.provider_payment_id == provider_payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


@dataclass(frozen=True, slots=True)
class Received:
    """A payment marked succeeded; `repeat` when it already was (nothing new happened)."""

    payment: Payment
    repeat: bool


async def record_success(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    provider: str,
    provider_payment_id: str,
    amount_pence: int,
    currency: str,
) -> Received:
    """Mark the payment succeeded (creating it if needed), locked for the caller's transaction."""
    await _insert_payment(
        session,
        order_id=order_id,
        provider=provider,
        provider_payment_id=provider_payment_id,
        amount_pence=amount_pence,
        currency=currency,
    )
    payment = await _locked_payment(session, provider_payment_id)
    assert payment is not None
    repeat = payment.status == PaymentState.SUCCEEDED
    if not repeat:
        PAYMENTS.labels(provider, "succeeded").inc()
    payment.status = PaymentState.SUCCEEDED
    payment.amount_pence = amount_pence
    return Received(payment, repeat)


async def record_failure(
    session: AsyncSession, provider_payment_id: str, reason: str | None
) -> Payment | None:
    """Mark an unsettled payment failed with the provider's reason; a succeeded one is kept."""
    payment = await _locked_payment(session, provider_payment_id)
    if payment is not None and payment.status != PaymentState.SUCCEEDED:
        if payment.status != PaymentState.FAILED:
            PAYMENTS.labels(payment.provider, "failed").inc()
        payment.status = PaymentState.FAILED
        payment.failure_reason = (reason or "")[:500] or None
    return payment


async def record_processing(session: AsyncSession, provider_payment_id: str) -> None:
    """The provider is still deciding (e.g. a card under review)."""
    payment = await _locked_payment(session, provider_payment_id)
    if payment is not None and payment.status in (PaymentState.PENDING, PaymentState.FAILED):
        payment.status = PaymentState.PROCESSING


async def paid_payment(session: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    """The payment that paid the order (the first one to succeed)."""
    return await session.scalar(
        select(Payment)
        .where(Payment.order_id == order_id, Payment.status == PaymentState.SUCCEEDED)
        .order_by(Payment.created_at, Payment.id)
        .limit(1)
    )


async def paid_payments(session: AsyncSession, order_id: uuid.UUID) -> list[Payment]:
    """Every payment that brought the order money (several for instalments), oldest first."""
    rows = await session.scalars(
        select(Payment)
        .where(Payment.order_id == order_id, Payment.status == PaymentState.SUCCEEDED)
        .order_by(Payment.created_at, Payment.id)
    )
    return list(rows)


async def latest_payment(session: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    """The order's payment that settled it, else its latest attempt."""
    return await paid_payment(session, order_id) or await session.scalar(
        select(Payment).where(Payment.order_id == order_id).order_by(Payment.created_at.desc())
    )
