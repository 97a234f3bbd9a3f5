"""Subscriptions to care plans: subscribe with a saved card, list, pause, resume, cancel at
the period's end; the staff's view; whether a client holds an active plan.

Subscribing holds the one-per-plan-per-piece place first (a row, committed), then asks the
provider with no lock held, then records its answer: two concurrent requests make one
subscription, and a provider failure frees the place. Status changes reported later by the
provider (webhooks) are applied in `events.py`.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.errors import ConflictError, ElysiumError, NotFoundError
from elysium.jobs import enqueue
from elysium.kit.clock import utcnow
from elysium.models import CarePlan, Order, OrderItem, Subscription, User
from elysium.models.order import OrderPaymentStatus
from elysium.models.subscription import SubscriptionStatus
from elysium.payments.billing import BillingGateway, ProviderSubscription
from elysium.payments.gateway import PaymentProviderError
from elysium.subscriptions import plans, wallet
from elysium.subscriptions.schemas import (
    SubscriptionAdminRead,
    SubscriptionCreate,
    SubscriptionRead,
)

ACTIVE_PLAN_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
"""A plan covers its services (booked without charge) only while active or trialing."""

STALE_HOLD = timedelta(minutes=10)

_KEPT_PIECES = (OrderPaymentStatus.PAID, OrderPaymentStatus.PARTIALLY_REFUNDED)


def _when(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def apply_snapshot(
    row: Subscription, snapshot: ProviderSubscription, at: int, *, fresh: bool = False
) -> bool:
    """Copy the provider's view onto the row; True when applied. `at` is when the view was
    taken (Unix seconds): an event's view older than (or as old as) the one the row holds is
    ignored, a `fresh` one (just read from the provider) always wins."""
    if not fresh and at <= row.provider_synced_at:
        return False
    row.provider_subscription_id = snapshot.subscription_id
    row.status = snapshot.status
    row.cancel_at_period_end = snapshot.cancel_at_period_end
    row.current_period_end = _when(snapshot.current_period_end)
    row.trial_end = _when(snapshot.trial_end)
    if snapshot.status == SubscriptionStatus.CANCELLED and row.cancelled_at is None:
        row.cancelled_at = utcnow()
    row.provider_synced_at = max(row.provider_synced_at, at)
    return True


def _read(row: Subscription, plan_name: str) -> SubscriptionRead:
    return SubscriptionRead(
        id=row.id,
        plan_id=row.plan_id,
        plan_name=plan_name,
        order_item_id=row.order_item_id,
        status=row.status,
        cancel_at_period_end=row.cancel_at_period_end,
        current_period_end=row.current_period_end,
        trial_end=row.trial_end,
        created_at=row.created_at,
    )


async def _check_piece(session: AsyncSession, user: User, order_item_id: uuid.UUID) -> None:
    """The piece must be one the client bought and paid for; 404 otherwise."""
    found = await session.scalar(
        select(OrderItem.id)
        .join(Order, Order.id == OrderItem.order_id)
        .where(
            OrderItem.id == order_item_id,
            Order.user_id == user.id,
            Order.payment_status.in_(_KEPT_PIECES),
        )
    )
    if found is None:
        raise NotFoundError("No such piece among your paid orders.")


async def _release_stale_hold(
    session: AsyncSession, user: User, plan: CarePlan, order_item_id: uuid.UUID | None
) -> None:
    """A place held by a subscribe call that never reached the provider (the process died in
    between: no provider id, and no webhook naming it since) is given up after a while."""
    await session.execute(
        update(Subscription)
        .where(
            Subscription.user_id == user.id,
            Subscription.plan_id == plan.id,
            Subscription.order_item_id.is_not_distinct_from(order_item_id),
            Subscription.status == SubscriptionStatus.INCOMPLETE,
            Subscription.provider_subscription_id.is_(None),
            Subscription.created_at < utcnow() - STALE_HOLD,
        )
        .values(status=SubscriptionStatus.CANCELLED, cancelled_at=utcnow())
    )


async def _hold_place(
    session: AsyncSession, user: User, plan: CarePlan, order_item_id: uuid.UUID | None
) -> Subscription:
    await _release_stale_hold(session, user, plan, order_item_id)
    row = Subscription(
        id=uuid.uuid4(), user_id=user.id, plan_id=plan.id, order_item_id=order_item_id
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConflictError("You already have this care plan for this piece.") from exc
    return row


async def subscribe(
    session: AsyncSession,
    gateway: BillingGateway,
    user: User,
    data: SubscriptionCreate,
) -> SubscriptionRead:
    """Subscribe to a plan with a saved card (made the customer's default, which the
    provider charges off-session); 404 for an unknown plan, card or piece, 409 for a second
    live subscription to the plan for the same piece, 402 when the card is declined."""
    plan = await plans.get_plan(session, data.plan_id)
    if not plan.active or plan.provider_price_id is None:
        raise NotFoundError("No such care plan.")
    charge = await wallet.charge_for(session, user, data.payment_method_id)
    if data.order_item_id is not None:
        await _check_piece(session, user, data.order_item_id)
    row = await _hold_place(session, user, plan, data.order_item_id)
    await session.commit()  # the place is held before the provider is asked
    try:
        await gateway.set_default_card(charge.customer_id, charge.payment_method_id)
        snapshot = await gateway.create_subscription(
            charge.customer_id,
            plan.provider_price_id,
            plan.trial_days,
            {"subscription_id": str(row.id), "user_id": str(user.id)},
            idempotency_key=f"subscription-{row.id}",
        )
    except ElysiumError as exc:
        # An outage leaves the outcome unknown: the place stays held, a webhook fills the row
        # in if Stripe made the subscription, else the stale hold is released later. A refusal
        # (e.g. a declined card) made nothing: the place is given up.
        if not (isinstance(exc, PaymentProviderError) and exc.retryable):
            await _give_up_place(session, row)
        raise
    await wallet.mark_default_by_reference(session, user.id, charge.payment_method_id)
    await _lock(session, row.id)
    apply_snapshot(row, snapshot, int(time.time()), fresh=True)
    await session.flush()
    return _read(row, plan.name)


async def _give_up_place(session: AsyncSession, row: Subscription) -> None:
    row.status, row.cancelled_at = SubscriptionStatus.CANCELLED, utcnow()
    await session.commit()  # the place is free again; the error is the answer


async def _lock(session: AsyncSession, subscription_id: uuid.UUID) -> Subscription:
    row = await session.scalar(
        select(Subscription)
        .where(Subscription.id == subscription_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def list_subscriptions(session: AsyncSession, user: User) -> list[SubscriptionRead]:
    rows = await session.execute(
        select(Subscription, CarePlan.name)
        .join(CarePlan, CarePlan.id == Subscription.plan_id)
        .where(Subscription.user_id == user.id)
        .order_by(Subscription.created_at.desc(), Subscription.id)
    )
    return [_read(row, name) for row, name in rows.tuples()]


async def _own(session: AsyncSession, user: User, subscription_id: uuid.UUID) -> Subscription:
    row = await session.scalar(
        select(Subscription).where(
            Subscription.id == subscription_id, Subscription.user_id == user.id
        )
    )
    if row is None or row.provider_subscription_id is None:
        raise NotFoundError("No such subscription.")
    return row


async def _change(
    session: AsyncSession, row: Subscription, snapshot: ProviderSubscription
) -> SubscriptionRead:
    locked = await _lock(session, row.id)
    apply_snapshot(locked, snapshot, int(time.time()), fresh=True)
    await session.flush()
    plan = await plans.get_plan(session, locked.plan_id)
    return _read(locked, plan.name)


async def pause(
    session: AsyncSession, gateway: BillingGateway, user: User, subscription_id: uuid.UUID
) -> SubscriptionRead:
    """Stop collecting payments (the plan's services stop too); 409 unless active."""
    row = await _own(session, user, subscription_id)
    if row.status == SubscriptionStatus.PAUSED:
        return await _change(session, row, await gateway.retrieve_subscription(_ref(row)))
    if row.status not in ACTIVE_PLAN_STATUSES:
        raise ConflictError(f"A {row.status} subscription cannot be paused.")
    return await _change(session, row, await gateway.pause_subscription(_ref(row)))


async def resume(
    session: AsyncSession, gateway: BillingGateway, user: User, subscription_id: uuid.UUID
) -> SubscriptionRead:
    """Collect payments again; 409 unless paused."""
    row = await _own(session, user, subscription_id)
    if row.status != SubscriptionStatus.PAUSED:
        raise ConflictError(f"A {row.status} subscription is not paused.")
    return await _change(session, row, await gateway.resume_subscription(_ref(row)))


async def cancel(
    session: AsyncSession, gateway: BillingGateway, user: User, subscription_id: uuid.UUID
) -> SubscriptionRead:
    """Cancel at the end of the period already paid for (a repeat changes nothing); 409 for
    one already cancelled."""
    row = await _own(session, user, subscription_id)
    if row.status == SubscriptionStatus.CANCELLED:
        raise ConflictError("This subscription is already cancelled.")
    if row.cancel_at_period_end:
        plan = await plans.get_plan(session, row.plan_id)
        return _read(row, plan.name)
    snapshot = await gateway.cancel_subscription_at_period_end(_ref(row))
    return await _change(session, row, snapshot)


def _ref(row: Subscription) -> str:
    assert row.provider_subscription_id is not None
    return row.provider_subscription_id


async def staff_list(
    session: AsyncSession,
    status: SubscriptionStatus | None,
    user_id: uuid.UUID | None,
    limit: int,
) -> list[SubscriptionAdminRead]:
    """Subscriptions newest first, by status and/or client (the back office's view)."""
    query = (
        select(Subscription, CarePlan.name, User.email)
        .join(CarePlan, CarePlan.id == Subscription.plan_id)
        .join(User, User.id == Subscription.user_id)
        .order_by(Subscription.created_at.desc(), Subscription.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(Subscription.status == status)
    if user_id is not None:
        query = query.where(Subscription.user_id == user_id)
    rows = await session.execute(query)
    return [
        SubscriptionAdminRead(
            **_read(row, name).model_dump(),
            user_id=row.user_id,
            user_email=email,
            provider_subscription_id=row.provider_subscription_id,
        )
        for row, name, email in rows.tuples()
    ]


END_SUBSCRIPTION = "end_subscription"


async def end_subscriptions_of(session: AsyncSession, user_id: uuid.UUID) -> None:
    """The client is being erased: every live subscription ends at once, at the provider by a
    job queued here (so no card is charged again), and is kept, without personal data."""
    rows = await session.scalars(
        select(Subscription)
        .where(
            Subscription.user_id == user_id,
            Subscription.status != SubscriptionStatus.CANCELLED,
        )
        .with_for_update()
    )
    for row in rows:
        if row.provider_subscription_id is None:
            row.status, row.cancelled_at = SubscriptionStatus.CANCELLED, utcnow()
            continue
        await enqueue(session, END_SUBSCRIPTION, queue="payments", subscription_id=str(row.id))


async def end_subscription(
    session: AsyncSession, gateway: BillingGateway, subscription_id: uuid.UUID
) -> None:
    """Cancel one subscription at once at the provider, then here (the job's body)."""
    row = await session.get(Subscription, subscription_id)
    if row is None or row.provider_subscription_id is None:
        return
    snapshot = await gateway.cancel_subscription_now(row.provider_subscription_id)
    locked = await _lock(session, row.id)
    apply_snapshot(locked, snapshot, int(time.time()), fresh=True)


async def has_active_care_plan(
    session: AsyncSession, user_id: uuid.UUID, subscription_id: uuid.UUID | None = None
) -> bool:
    """Whether the client holds an active (or trialing) care plan, that one when named: its
    services are then booked without charge."""
    query = select(Subscription.id).where(
        Subscription.user_id == user_id, Subscription.status.in_(ACTIVE_PLAN_STATUSES)
    )
    if subscription_id is not None:
        query = query.where(Subscription.id == subscription_id)
    return await session.scalar(query.limit(1)) is not None
