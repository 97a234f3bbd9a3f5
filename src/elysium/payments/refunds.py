"""Refunds in two steps, so the provider is never called under a lock and never twice for more
than was paid:

1. `open_refund` (order row locked): checks what is left to refund, sets the amount aside in a
   `requested` row with a unique idempotency key. The caller commits.
2. `complete_refund`: asks the provider (with the refund's own idempotency key), then records
   its answer and the order's new payment status under the order lock.

A crash between the two leaves a `requested` row that a retry (same key) completes.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.checkout.idempotency import claim_key, request_fingerprint, save_answer
from elysium.errors import BadGatewayError, ConflictError, NotFoundError, ValidationFailedError
from elysium.kit.clock import utcnow
from elysium.kit.money import Money
from elysium.models import Order, Payment, Refund, User
from elysium.orders import events
from elysium.orders.history import lock_order, move_order, order_customer
from elysium.orders.schemas import RefundRead
from elysium.orders.state import REFUNDED, can_transition
from elysium.payments.gateway import (
    PaymentDeclinedError,
    PaymentGateway,
    PaymentProviderError,
    RefundResult,
)

log = structlog.get_logger(__name__)

HELD_STATES = ("requested", "pending", "succeeded")
"""Refund states that count against what is left to refund."""
SETTLED_STATES = ("pending", "succeeded")
"""Refund states the payment status counts as given back."""


class RefundFailedError(BadGatewayError):
    """The provider refused the refund; the refund is recorded as failed."""

    type_slug = "refund-failed"
    title = "Refund failed"
    keep_changes = True


async def refunded_pence(
    session: AsyncSession, payment_id: uuid.UUID, states: tuple[str, ...] = HELD_STATES
) -> int:
    """The sum of a payment's refunds in `states`."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_pence), 0)).where(
            Refund.payment_id == payment_id, Refund.status.in_(states)
        )
    )
    return int(total or 0)


async def paid_payment(session: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    """The payment that paid the order (the first one to succeed)."""
    return await session.scalar(
        select(Payment)
        .where(Payment.order_id == order_id, Payment.status == "succeeded")
        .order_by(Payment.created_at, Payment.id)
        .limit(1)
    )


async def open_refund(
    session: AsyncSession,
    order: Order,
    payment: Payment,
    *,
    amount_pence: int | None,
    reason: str,
    idempotency_key: str,
    actor_id: uuid.UUID | None,
) -> Refund:
    """Set aside a refund of `amount_pence` (None: all that is left) of a locked order's payment.

    The same idempotency key returns the refund it made before. 409 for more than is left.
    """
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
            extra={"refundable": {"amount": f"{left / 100:.2f}", "currency": order.currency}},
        )
    refund = Refund(
        id=uuid.uuid4(),
        order_id=order.id,
        payment_id=payment.id,
        amount_pence=amount,
        reason=reason[:500],
        status="requested",
        idempotency_key=idempotency_key,
        created_by=actor_id,
    )
    session.add(refund)
    await session.flush()
    return refund


async def sync_payment_status(
    session: AsyncSession, order: Order, payment: Payment, *, by: str, actor_id: uuid.UUID | None
) -> None:
    """Derive the (locked) order's payment status from its refunds; REFUNDED when all is back."""
    back = await refunded_pence(session, payment.id, SETTLED_STATES)
    if back <= 0:
        return
    if back < payment.amount_pence:
        order.payment_status = "partially_refunded"
        return
    order.payment_status = "refunded"
    if can_transition(order.status, REFUNDED):
        await move_order(
            session, order, REFUNDED, by=by, actor_id=actor_id, note="Refunded in full"
        )


async def _ask_provider(
    gateway: PaymentGateway, payment: Payment, refund: Refund
) -> RefundResult | None:
    """The provider's answer, or None when it refused for good (the refund then failed)."""
    if payment.provider != getattr(gateway, "provider", None):
        return RefundResult(refund_id=None, status="pending", amount_pence=refund.amount_pence)
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


async def complete_refund(
    session: AsyncSession, gateway: PaymentGateway, refund_id: uuid.UUID, *, by: str
) -> Refund:
    """Pay out a `requested` refund and record the outcome; other states are returned as is.

    Call with no lock held. Manual payments (bank transfers) stay `pending` until staff pay
    back by bank. RefundFailedError (502, kept) when the provider refuses.
    """
    refund = await session.get(Refund, refund_id, populate_existing=True)
    if refund is None:
        raise NotFoundError("No such refund.")
    if refund.status != "requested":
        return refund
    payment = await session.get(Payment, refund.payment_id)
    assert payment is not None
    result = await _ask_provider(gateway, payment, refund)
    order = await lock_order(session, refund.order_id)
    await session.refresh(refund, with_for_update=True)
    if refund.status != "requested":
        return refund  # a concurrent completion recorded it first
    if result is None:
        refund.status = "failed"
        await session.flush()
        raise RefundFailedError("The payment provider refused the refund.")
    refund.status = "succeeded" if result.status == "succeeded" else "pending"
    refund.provider_refund_id = result.refund_id
    await sync_payment_status(session, order, payment, by=by, actor_id=refund.created_by)
    user = await order_customer(session, order)
    await events.refund_issued(
        session, user, order, refund.amount_pence, refund.reason, str(refund.id)
    )
    await session.flush()
    return refund


async def record_provider_refund(
    session: AsyncSession, provider_payment_id: str, refunded_total_pence: int, event_id: str
) -> None:
    """A refund made at the provider (e.g. its dashboard): record whatever we did not ask for."""
    payment = await session.scalar(
        select(Payment).where(Payment.provider_payment_id == provider_payment_id)
    )
    if payment is None:
        log.warning("refund_for_unknown_payment", provider_payment_id=provider_payment_id)
        return
    order = await lock_order(session, payment.order_id)
    unknown = refunded_total_pence - await refunded_pence(session, payment.id)
    if unknown > 0:
        session.add(
            Refund(
                order_id=order.id,
                payment_id=payment.id,
                amount_pence=unknown,
                reason="Refunded at the payment provider",
                status="succeeded",
                idempotency_key=f"provider-event:{event_id}",
            )
        )
        await session.flush()
    await sync_payment_status(session, order, payment, by="payment provider", actor_id=None)


async def request_refund(
    session: AsyncSession,
    admin: User,
    order_id: uuid.UUID,
    amount_pence: int | None,
    reason: str,
    idempotency_key: str,
) -> uuid.UUID:
    """Step 1 of an admin refund (full when `amount_pence` is None); the caller commits, then
    calls `complete_refund`. The same key and body return the same refund."""
    body = {"order_id": str(order_id), "amount_pence": amount_pence, "reason": reason}
    claim = await claim_key(session, admin.id, idempotency_key, request_fingerprint("refund", body))
    if claim.stored is not None:
        return uuid.UUID(str(claim.stored.body["refund_id"]))
    assert claim.row_id is not None
    order = await lock_order(session, order_id)
    payment = await paid_payment(session, order.id)
    if payment is None:
        raise ConflictError("This order has not been paid, so there is nothing to refund.")
    refund = await open_refund(
        session,
        order,
        payment,
        amount_pence=amount_pence,
        reason=reason,
        idempotency_key=f"request:{claim.row_id}",
        actor_id=admin.id,
    )
    await record_event(
        session,
        "order.refund_requested",
        actor_id=admin.id,
        target_type="order",
        target_id=order.id,
        details={
            "refund_id": str(refund.id),
            "amount_pence": refund.amount_pence,
            "reason": reason,
        },
    )
    await save_answer(session, claim.row_id, 201, {"refund_id": str(refund.id)})
    return refund.id


async def refund_read(session: AsyncSession, refund: Refund) -> RefundRead:
    """The refund with its order's resulting statuses."""
    order = await session.get(Order, refund.order_id, populate_existing=True)
    assert order is not None
    return RefundRead(
        id=refund.id,
        order_id=refund.order_id,
        amount=Money.from_pence(refund.amount_pence, order.currency),
        reason=refund.reason,
        status=refund.status,
        created_at=refund.created_at,
        order_status=order.status,
        payment_status=order.payment_status,
    )


async def pay_out_quietly(
    session: AsyncSession, gateway: PaymentGateway, refund_id: uuid.UUID | None, *, by: str
) -> None:
    """Complete a refund that a committed change set aside, without failing the caller: a
    provider failure leaves it `requested` (or `failed`) for `retry_requested_refunds`."""
    if refund_id is None:
        return
    try:
        await complete_refund(session, gateway, refund_id, by=by)
    except (PaymentProviderError, RefundFailedError) as exc:
        log.error("refund_payout_failed", refund_id=str(refund_id), error=exc.detail)


async def retry_requested_refunds(
    session: AsyncSession, gateway: PaymentGateway, older_than: timedelta = timedelta(minutes=2)
) -> int:
    """For a periodic job: finish refunds left `requested` by a crash; returns how many.

    A job's boundary: commits after each refund, so no lock outlives one provider call.
    """
    stuck = list(
        await session.scalars(
            select(Refund.id).where(
                Refund.status == "requested", Refund.created_at < utcnow() - older_than
            )
        )
    )
    for refund_id in stuck:
        await pay_out_quietly(session, gateway, refund_id, by="system")
        await session.commit()
    return len(stuck)
