"""Money going back: refunds set aside under the order's lock, paid out with no lock held,
and the order's payment status (and REFUNDED) derived from what has gone back.

Every refund is set aside together with a `pay_out_refund` job in the same transaction, so a
crash or a provider outage never loses one; the job retries with backoff and shows in the
failed-jobs list when it keeps failing. The admin refund endpoint, which owes its caller the
provider's answer, also pays out at once (`refund_order`); the job then finds nothing to do.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.errors import ConflictError, NotFoundError, ValidationFailedError
from elysium.idempotency import claim_key, request_fingerprint, save_answer
from elysium.jobs import enqueue
from elysium.kit.clock import utcnow
from elysium.kit.money import Money
from elysium.models import Order, Payment, Refund, User
from elysium.models.order import OrderPaymentStatus
from elysium.models.payment import RefundState
from elysium.orders import credit_notes, events
from elysium.orders.history import (
    PROVIDER,
    SYSTEM,
    actor_label,
    lock_order,
    move_order,
    order_customer,
)
from elysium.orders.schemas import RefundRead, RefundRequest
from elysium.orders.state import REFUNDED, can_transition
from elysium.payments import refunds
from elysium.payments.gateway import PaymentGateway, PaymentProviderError, RefundResult
from elysium.payments.refunds import RefundFailedError
from elysium.payments.service import paid_payments

log = structlog.get_logger(__name__)

PAY_OUT_REFUND = "pay_out_refund"
SYNC_PAY_OUT_GRACE = timedelta(minutes=1)
"""How long the job waits behind a refund that its request is paying out at once."""


async def set_aside(
    session: AsyncSession,
    settings: Settings,
    order: Order,
    payment: Payment,
    *,
    amount_pence: int | None,
    reason: str,
    idempotency_key: str,
    actor_id: uuid.UUID | None,
    by: str,
    pay_out_after: timedelta = timedelta(0),
) -> Refund:
    """Reserve a refund of a locked order's payment (None: all that is left). The same key
    returns the same refund.

    Money taken by hand (a bank transfer, a payment staff confirmed) is paid back by hand: the
    refund is `pending` at once. Card money is paid out by a job queued here, in the same
    transaction, so it is never lost.
    """
    refund = await refunds.open_refund(
        session,
        payment,
        amount_pence=amount_pence,
        reason=reason,
        idempotency_key=idempotency_key,
        actor_id=actor_id,
    )
    if refund.status != RefundState.REQUESTED:
        return refund
    if refunds.taken_by_hand(payment):
        by_hand = refunds.paid_back_by_hand(refund)
        await _record_payout(session, settings, order, payment, refund, by_hand, by=by)
    else:
        await enqueue(
            session,
            PAY_OUT_REFUND,
            queue="payments",
            queueing_lock=f"refund:{refund.id}",
            scheduled_at=utcnow() + pay_out_after if pay_out_after else None,
            refund_id=str(refund.id),
        )
    return refund


async def refund_the_rest(
    session: AsyncSession,
    settings: Settings,
    order: Order,
    *,
    reason: str,
    key: str,
    actor_id: uuid.UUID | None,
    by: str,
) -> Refund | None:
    """Set aside whatever is left of each of a locked order's payments (several for
    instalments); the last refund, or None when nothing is left."""
    last = None
    for n, (payment, _) in enumerate(await money_left(session, order.id)):
        last = await set_aside(
            session,
            settings,
            order,
            payment,
            amount_pence=None,
            reason=reason,
            idempotency_key=key if n == 0 else f"{key}:{n}",
            actor_id=actor_id,
            by=by,
        )
    return last


async def money_left(session: AsyncSession, order_id: uuid.UUID) -> list[tuple[Payment, int]]:
    """The order's payments that still hold money to refund, with how much, oldest first."""
    left = []
    for payment in await paid_payments(session, order_id):
        rest = payment.amount_pence - await refunds.refunded_pence(session, payment.id)
        if rest > 0:
            left.append((payment, rest))
    return left


async def sync_payment_status(
    session: AsyncSession, order: Order, *, by: str, actor_id: uuid.UUID | None
) -> None:
    """Derive the (locked) order's payment status from its refunds; REFUNDED when everything
    paid (every instalment) is back."""
    paid = back = 0
    for payment in await paid_payments(session, order.id):
        paid += payment.amount_pence
        back += await refunds.refunded_pence(session, payment.id, refunds.SETTLED_STATES)
    if back <= 0:
        return
    if back < paid:
        order.payment_status = OrderPaymentStatus.PARTIALLY_REFUNDED
        return
    order.payment_status = OrderPaymentStatus.REFUNDED
    if can_transition(order.status, REFUNDED):
        await move_order(
            session, order, REFUNDED, by=by, actor_id=actor_id, note="Refunded in full"
        )


async def complete_refund(
    session: AsyncSession,
    settings: Settings,
    gateway: PaymentGateway,
    refund_id: uuid.UUID,
    *,
    by: str,
) -> Refund:
    """Pay out a `requested` refund and record the outcome; other states are returned as is.

    The provider is asked with no lock held; the answer is written under the order's lock.
    Payments taken by hand (bank transfers) stay `pending` until staff pay back by bank.
    RefundFailedError (502, kept) when the provider refuses; PaymentProviderError when it
    cannot be reached (the refund stays `requested`).
    """
    refund = await session.get(Refund, refund_id, populate_existing=True)
    if refund is None:
        raise NotFoundError("No such refund.")
    if refund.status != RefundState.REQUESTED:
        return refund
    payment = await session.get(Payment, refund.payment_id)
    assert payment is not None
    result = await refunds.ask_provider(gateway, payment, refund)
    order = await lock_order(session, refund.order_id)
    await session.refresh(refund, with_for_update=True)
    if refund.status != RefundState.REQUESTED:
        return refund  # a concurrent pay-out recorded it first
    if result is None:
        refunds.record_outcome(refund, None)
        await session.flush()
        raise RefundFailedError("The payment provider refused the refund.")
    await _record_payout(session, settings, order, payment, refund, result, by=by)
    return refund


async def _record_payout(
    session: AsyncSession,
    settings: Settings,
    order: Order,
    payment: Payment,
    refund: Refund,
    result: RefundResult,
    *,
    by: str,
) -> None:
    """The refund accepted (succeeded, or pending a pay-back by hand): the order's payment
    status follows and the customer is told."""
    refunds.record_outcome(refund, result)
    await sync_payment_status(session, order, by=by, actor_id=refund.created_by)
    await credit_notes.issue_credit_notes(session, order)
    customer = await order_customer(session, order)
    await events.refund_issued(
        session, settings, customer, order, refund.amount_pence, refund.reason, str(refund.id)
    )
    await session.flush()


async def request_refund(
    session: AsyncSession,
    settings: Settings,
    admin: User,
    order_id: uuid.UUID,
    data: RefundRequest,
    idempotency_key: str,
) -> uuid.UUID:
    """Set aside an admin's refund (full when no amount), audited; the same key and body return
    the same refund, another body with the same key is 409."""
    amount = data.amount.to_pence() if data.amount else None
    body = {"order_id": str(order_id), "amount_pence": amount, "reason": data.reason}
    if data.amount is not None:
        body["currency"] = data.amount.currency
    claim = await claim_key(session, admin.id, idempotency_key, request_fingerprint("refund", body))
    if claim.stored is not None:
        return uuid.UUID(str(claim.stored.body["refund_id"]))
    assert claim.row_id is not None
    order = await lock_order(session, order_id)
    if data.amount is not None and data.amount.currency != order.currency:
        raise ValidationFailedError(
            f"This order was paid in {order.currency}; refund it in {order.currency}.",
            errors=[{"field": "amount.currency", "message": f"must be {order.currency}"}],
        )
    payment = await refundable_payment(session, order.id)
    refund = await set_aside(
        session,
        settings,
        order,
        payment,
        amount_pence=amount,
        reason=data.reason,
        idempotency_key=f"request:{claim.row_id}",
        actor_id=admin.id,
        by=actor_label(admin),
        pay_out_after=SYNC_PAY_OUT_GRACE,
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
            "reason": data.reason,
        },
    )
    await save_answer(session, claim.row_id, 201, {"refund_id": str(refund.id)})
    return refund.id


async def refundable_payment(session: AsyncSession, order_id: uuid.UUID) -> Payment:
    """The payment a refund comes from: the one with the most left to refund (the latest of
    equals). 409 when the order has not been paid."""
    paid = await paid_payments(session, order_id)
    if not paid:
        raise ConflictError("This order has not been paid, so there is nothing to refund.")
    left = await money_left(session, order_id)
    return max(left, key=lambda pair: pair[1])[0] if left else paid[0]


async def refund_order(
    session: AsyncSession,
    settings: Settings,
    gateway: PaymentGateway,
    admin: User,
    order_id: uuid.UUID,
    data: RefundRequest,
    idempotency_key: str,
) -> RefundRead:
    """An admin's refund, in two phases because the admin is owed the provider's answer:

    1. set the amount aside (with its pay-out job) and commit, so it stands before money moves;
    2. pay it out now, with no lock held while the provider is asked, and answer with the
       outcome (502 when the provider refuses or cannot be reached; in the second case the
       queued job finishes it later).
    """
    refund_id = await request_refund(session, settings, admin, order_id, data, idempotency_key)
    await session.commit()
    refund = await complete_refund(session, settings, gateway, refund_id, by=actor_label(admin))
    return await refund_read(session, refund)


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


async def record_provider_refund(
    session: AsyncSession, provider_payment_id: str, refunded_total_pence: int, event_id: str
) -> None:
    """A refund made at the provider (e.g. its dashboard): record what we did not ask for."""
    payment = await refunds.payment_by_provider_id(session, provider_payment_id)
    if payment is None:
        log.warning("refund_for_unknown_payment", provider_payment_id=provider_payment_id)
        return
    order = await lock_order(session, payment.order_id)
    await refunds.record_external_refund(session, payment, refunded_total_pence, event_id)
    await sync_payment_status(session, order, by=PROVIDER, actor_id=None)
    await credit_notes.issue_credit_notes(session, order)


async def retry_requested_refunds(
    session: AsyncSession,
    settings: Settings,
    gateway: PaymentGateway,
    older_than: timedelta = timedelta(minutes=10),
) -> int:
    """The safety net behind the pay-out jobs: finish refunds still `requested` after
    `older_than` (say a job that ran out of attempts); returns how many were tried.

    A job's boundary: commits after each refund, so no lock outlives one provider call.
    """
    stuck = await refunds.requested_refund_ids(session, utcnow() - older_than)
    for refund_id in stuck:
        try:
            await complete_refund(session, settings, gateway, refund_id, by=SYSTEM)
        except (PaymentProviderError, RefundFailedError) as exc:
            log.error("refund_payout_failed", refund_id=str(refund_id), error=exc.detail)
        await session.commit()
    return len(stuck)
