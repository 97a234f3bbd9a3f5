"""Refund rows and the provider's pay-out, in two steps, so the provider is never called under
a lock and never twice for more than was paid:

1. `open_refund` (the caller holds the order's lock): checks what is left to refund and sets
   the amount aside in a `requested` row with a unique idempotency key.
2. `ask_provider` (no lock held) pays it out with the refund's own idempotency key, and
   `record_outcome` writes the answer (the caller locks the order again first).

This module moves no order: the orders domain derives the order's payment status from
`refunded_pence` and decides what an order does when its money goes back.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.errors import BadGatewayError, ConflictError, ValidationFailedError
from elysium.kit.money import pence_to_str
from elysium.models import Payment, Refund
from elysium.models.payment import RefundState
from elysium.payments.gateway import (
    PaymentDeclinedError,
    PaymentGateway,
    PaymentProviderError,
    RefundResult,
)
from elysium.payments.service import BANK_TRANSFER, MANUAL

log = structlog.get_logger(__name__)

HELD_STATES: Final = (RefundState.REQUESTED, RefundState.PENDING, RefundState.SUCCEEDED)
"""Refund states that count against what is left to refund."""
SETTLED_STATES: Final = (RefundState.PENDING, RefundState.SUCCEEDED)
"""Refund states the payment status counts as given back."""


class RefundFailedError(BadGatewayError):
    """The provider refused the refund; the refund is recorded as failed."""

    type_slug = "refund-failed"
    title = "Refund failed"
    keep_changes = True


async def refunded_pence(
    session: AsyncSession,
    payment_id: uuid.UUID,
    states: tuple[RefundState, ...] = HELD_STATES,
) -> int:
    """The sum of a payment's refunds in `states`."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_pence), 0)).where(
            Refund.payment_id == payment_id, Refund.status.in_(states)
        )
    )
    return int(total or 0)


async def open_refund(
    session: AsyncSession,
    payment: Payment,
    *,
    amount_pence: int | None,
    reason: str,
    idempotency_key: str,
    actor_id: uuid.UUID | None,
) -> Refund:
    """Set aside a refund of `amount_pence` (None: all that is left) of a payment whose order
    the caller has locked. The same idempotency key returns the refund it made before.
    422 for a non-positive amount, 409 for more than is left."""
    existing = await session.scalar(select(Refund).where(Refund.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    left = payment.amount_pence - await refunded_pence(session, payment.id)
    amount = left if amount_pence is None else amount_pence
    if amount <= 0 and amount_pence is not None:
        raise ValidationFailedError(
            "A refund must be a positive amount.",
            errors=[{"field": "amount", "message": "must be more than 0.00"}],
        )
    if amount <= 0 or amount > left:
        raise ConflictError(
            "That is more than is left to refund on this order.",
            extra={"refundable": {"amount": pence_to_str(left), "currency": payment.currency}},
        )
    refund = Refund(
        id=uuid.uuid4(),
        order_id=payment.order_id,
        payment_id=payment.id,
        amount_pence=amount,
        reason=reason[:500],
        status=RefundState.REQUESTED,
        idempotency_key=idempotency_key,
        created_by=actor_id,
    )
    session.add(refund)
    await session.flush()
    return refund


async def ask_provider(
    gateway: PaymentGateway, payment: Payment, refund: Refund
) -> RefundResult | None:
    """The provider's answer to paying out `refund`, or None when it refused for good.

    A payment taken another way than this gateway's (a bank transfer, money confirmed by
    staff) is paid back by hand: the refund is accepted as `pending`. A retryable provider
    failure raises `PaymentProviderError`, leaving the refund `requested` for a retry.
    """
    if payment.provider != gateway.provider or not gateway.calls_provider:
        return paid_back_by_hand(refund)
    try:
        return await gateway.refund(
            payment.provider_payment_id,
            refund.amount_pence,
            idempotency_key=f"refund-{refund.id}",
            reason=refund.reason,
        )
    except PaymentDeclinedError:
        return None
    except PaymentProviderError as exc:
        if exc.retryable:
            raise
        return None


def taken_by_hand(payment: Payment) -> bool:
    """Money no provider holds (a bank transfer, a payment staff confirmed): it goes back by
    hand too, so its refunds need no provider call."""
    return payment.provider in (BANK_TRANSFER, MANUAL)


def paid_back_by_hand(refund: Refund) -> RefundResult:
    """The outcome of a refund staff pay back by bank: accepted, `pending` until they do."""
    return RefundResult(
        refund_id=None, status=RefundState.PENDING, amount_pence=refund.amount_pence
    )


def record_outcome(refund: Refund, result: RefundResult | None) -> None:
    """Write the provider's answer on a `requested` refund (None: it refused, so `failed`)."""
    if result is None:
        refund.status = RefundState.FAILED
        return
    succeeded = result.status == RefundState.SUCCEEDED
    refund.status = RefundState.SUCCEEDED if succeeded else RefundState.PENDING
    refund.provider_refund_id = result.refund_id


async def record_external_refund(
    session: AsyncSession, payment: Payment, refunded_total_pence: int, event_id: str
) -> int:
    """A refund made at the provider (its dashboard): record what we did not ask for; returns
    the pence newly recorded (0 when every penny was already known)."""
    unknown = refunded_total_pence - await refunded_pence(session, payment.id)
    if unknown <= 0:
        return 0
    session.add(
        Refund(
            order_id=payment.order_id,
            payment_id=payment.id,
            amount_pence=unknown,
            reason="Refunded at the payment provider",
            status=RefundState.SUCCEEDED,
            idempotency_key=f"provider-event:{event_id}",
        )
    )
    await session.flush()
    return unknown


async def payment_by_provider_id(session: AsyncSession, provider_payment_id: str) -> Payment | None:
    return await session.scalar(
        select(Payment).where(Payment.provider_payment_id == provider_payment_id)
    )


async def requested_refund_ids(session: AsyncSession, before: datetime) -> list[uuid.UUID]:
    """Refunds still `requested` that were set aside before `before` (left by an outage)."""
    rows = await session.scalars(
        select(Refund.id).where(Refund.status == RefundState.REQUESTED, Refund.created_at < before)
    )
    return list(rows)


async def settled_refunds(session: AsyncSession, order_id: uuid.UUID) -> list[Refund]:
    """An order's refunds given back (or accepted to be paid back by hand), oldest first."""
    rows = await session.scalars(
        select(Refund)
        .where(Refund.order_id == order_id, Refund.status.in_(SETTLED_STATES))
        .order_by(Refund.created_at, Refund.id)
    )
    return list(rows)
