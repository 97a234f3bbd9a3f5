"""Orders after checkout: reading them, staff status changes, cancellation and expiry.

Every change locks the order row first (then stock rows, inside inventory), so concurrent
changes of one order queue. Money leaves through `payments.refunds`, after commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.errors import ConflictError, NotFoundError
from elysium.inventory import stock
from elysium.inventory.service import release
from elysium.kit.clock import utcnow
from elysium.kit.keyset import decode_time_cursor, page_of
from elysium.kit.money import Money
from elysium.kit.pagination import Page
from elysium.models import Order, OrderItem, OrderStatusChange, Payment, User
from elysium.orders import events
from elysium.orders.history import (
    actor_label,
    lock_order,
    move_order,
    order_customer,
    order_items,
)
from elysium.orders.schemas import (
    OrderItemRead,
    OrderRead,
    OrderSummary,
    PaymentSummary,
    StatusChange,
    StatusChangeRead,
)
from elysium.orders.state import (
    CANCELLED,
    PAID,
    PAYMENT_FAILED,
    PENDING,
    REFUNDED,
    SHIPPED,
    ensure_transition,
)
from elysium.payments.refunds import SETTLED_STATES, open_refund, paid_payment, refunded_pence
from elysium.payments.service import (
    BANK_TRANSFER,
    MANUAL,
    bank_reference,
    finalize_payment,
)
from elysium.promotions.service import release_coupon

EXPIRY_BATCH = 200


@dataclass(frozen=True, slots=True)
class OrderChange:
    """A changed order and, when money must go back, the refund to pay out after commit."""

    order: Order
    refund_id: uuid.UUID | None = None


def is_staff(user: User) -> bool:
    return user.is_staff


# --- reading -----------------------------------------------------------------------------------


async def visible_order(session: AsyncSession, viewer: User, order_id: uuid.UUID) -> Order:
    """The order if the viewer owns it or is staff; another customer's is simply not found."""
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None or (order.user_id != viewer.id and not is_staff(viewer)):
        raise NotFoundError("No such order.")
    return order


def _item_read(item: OrderItem, currency: str) -> OrderItemRead:
    return OrderItemRead(
        product_slug=item.product_slug,
        title=item.title,
        configuration=item.configuration,
        variant_key=item.variant_key,
        quantity=item.quantity,
        unit_price=Money.from_pence(item.unit_price_pence, currency),
        line_total=Money.from_pence(item.line_total_pence, currency),
    )


async def _history(session: AsyncSession, order_id: uuid.UUID) -> list[StatusChangeRead]:
    rows = await session.scalars(
        select(OrderStatusChange)
        .where(OrderStatusChange.order_id == order_id)
        .order_by(OrderStatusChange.at, OrderStatusChange.id)
    )
    return [StatusChangeRead(status=r.status, at=r.at, by=r.by, note=r.note) for r in rows]


async def _payment_summary(session: AsyncSession, order: Order) -> PaymentSummary | None:
    payment = await paid_payment(session, order.id) or await session.scalar(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.created_at.desc())
    )
    if payment is None:
        return None
    back = await refunded_pence(session, payment.id, SETTLED_STATES)
    return PaymentSummary(
        provider=payment.provider,
        status=payment.status,
        amount=Money.from_pence(payment.amount_pence, payment.currency),
        refunded=Money.from_pence(back, payment.currency),
    )


def order_read(
    order: Order,
    items: list[OrderItem],
    history: list[StatusChangeRead],
    payment: PaymentSummary | None,
) -> OrderRead:
    """The full order as the API shows it."""
    currency = order.currency
    return OrderRead(
        id=order.id,
        order_number=order.order_number,
        status=order.status,
        payment_status=order.payment_status,
        items=[_item_read(item, currency) for item in items],
        subtotal=Money.from_pence(order.subtotal_pence, currency),
        discount=Money.from_pence(order.discount_pence, currency),
        shipping=Money.from_pence(order.shipping_pence, currency),
        vat=Money.from_pence(order.vat_pence, currency),
        total=Money.from_pence(order.total_pence, currency),
        coupon_code=order.coupon_code,
        shipping_method=order.shipping_method,
        shipping_address=order.shipping_address,
        billing_address=order.billing_address,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        reservation_expires_at=order.reservation_expires_at,
        status_history=history,
        created_at=order.created_at,
        payment=payment,
    )


async def read_order(session: AsyncSession, order: Order) -> OrderRead:
    """Load the order's lines, history and payment and render it."""
    return order_read(
        order,
        await order_items(session, order.id),
        await _history(session, order.id),
        await _payment_summary(session, order),
    )


async def get_order(session: AsyncSession, viewer: User, order_id: uuid.UUID) -> OrderRead:
    """One order, for its owner or staff."""
    return await read_order(session, await visible_order(session, viewer, order_id))


def _summary(order: Order) -> OrderSummary:
    return OrderSummary(
        id=order.id,
        order_number=order.order_number,
        status=order.status,
        payment_status=order.payment_status,
        total=Money.from_pence(order.total_pence, order.currency),
        created_at=order.created_at,
    )


async def list_orders(
    session: AsyncSession, user: User, limit: int, cursor: str | None
) -> Page[OrderSummary]:
    """The user's own orders, newest first."""
    return await _order_page(session, select(Order).where(Order.user_id == user.id), limit, cursor)


async def list_all_orders(
    session: AsyncSession, status: str | None, limit: int, cursor: str | None
) -> Page[OrderSummary]:
    """Every customer's orders, newest first, optionally of one status (staff)."""
    statement = select(Order) if status is None else select(Order).where(Order.status == status)
    return await _order_page(session, statement, limit, cursor)


async def _order_page(
    session: AsyncSession, statement: Select[Order], limit: int, cursor: str | None
) -> Page[OrderSummary]:
    after = decode_time_cursor(cursor)
    if after is not None:
        statement = statement.where(tuple_(Order.created_at, Order.id) < after)
    ordered = statement.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit + 1)
    rows, next_cursor = page_of(list(await session.scalars(ordered)), limit, _time_key)
    return Page(items=[_summary(o) for o in rows], next_cursor=next_cursor)


def _time_key(order: Order) -> tuple[datetime, uuid.UUID]:
    return order.created_at, order.id


# --- cancelling and expiring ------------------------------------------------------------------


async def _return_sold_units(
    session: AsyncSession, order: Order, actor_id: uuid.UUID | None
) -> None:
    """Put the units of a paid (sold) order back on the shelf (ledger `return`)."""
    lines = [i for i in await order_items(session, order.id) if not i.made_to_order]
    if not lines:
        return
    refs = {(i.product_id, i.variant_key) for i in lines if i.product_id is not None}
    items = await stock.ensure_and_lock_items(session, refs)
    for line in lines:
        if line.product_id is None:
            continue
        item = items[(line.product_id, line.variant_key)]
        await stock.move(
            session,
            item,
            reason="return",
            delta=line.quantity,
            actor_id=actor_id,
            order_id=order.id,
            note=f"order {order.order_number} cancelled",
        )


async def _close_order(
    session: AsyncSession,
    order: Order,
    *,
    actor: User | None,
    note: str,
    expired: bool = False,
) -> uuid.UUID | None:
    """CANCELLED: stock and coupon back, customer told; returns a refund to pay out, if any."""
    actor_id = None if actor is None else actor.id
    was_paid = order.payment_status in ("paid", "partially_refunded")
    ensure_transition(order.status, CANCELLED)
    if was_paid:
        await _return_sold_units(session, order, actor_id)
    else:
        await release(
            session, owner_type="order", owner_id=order.id, reason=note, actor_id=actor_id
        )
    await release_coupon(session, order_id=order.id)
    order.cancelled_at = utcnow()
    await move_order(session, order, CANCELLED, by=actor_label(actor), actor_id=actor_id, note=note)
    refund_id, refund_pence = (
        await _refund_on_cancel(session, order, actor_id) if was_paid else (None, 0)
    )
    user = await order_customer(session, order)
    await events.order_cancelled(session, user, order, refund_pence, expired=expired)
    return refund_id


async def _refund_on_cancel(
    session: AsyncSession, order: Order, actor_id: uuid.UUID | None
) -> tuple[uuid.UUID | None, int]:
    payment = await paid_payment(session, order.id)
    if payment is None or payment.amount_pence <= await refunded_pence(session, payment.id):
        return None, 0
    refund = await open_refund(
        session,
        order,
        payment,
        amount_pence=None,
        reason="Order cancelled",
        idempotency_key=f"cancel:{order.id}",
        actor_id=actor_id,
    )
    return refund.id, refund.amount_pence


async def cancel_order(
    session: AsyncSession, actor: User, order_id: uuid.UUID, reason: str | None
) -> OrderChange:
    """Cancel before fulfilment (owner or staff): stock back, coupon back, refund when paid.

    409 once the order is fulfilled or closed. The refund is paid out after commit.
    """
    await visible_order(session, actor, order_id)
    order = await lock_order(session, order_id)
    note = reason or (
        "Cancelled by the atelier" if is_staff(actor) else "Cancelled by the customer"
    )
    refund_id = await _close_order(session, order, actor=actor, note=note)
    if is_staff(actor):
        await record_event(
            session,
            "order.cancelled",
            actor_id=actor.id,
            target_type="order",
            target_id=order.id,
            details={"note": note, "refund_id": str(refund_id or "")},
        )
    return OrderChange(order, refund_id)


async def expire_unpaid_orders(session: AsyncSession) -> int:
    """Cancel unpaid orders whose reservation has expired and release their stock.

    For the periodic job; safe to run concurrently (rows being changed are skipped).
    Returns the number of orders cancelled.
    """
    due = await session.scalars(
        select(Order)
        .where(
            Order.status.in_((PENDING, PAYMENT_FAILED)), Order.reservation_expires_at <= utcnow()
        )
        .order_by(Order.reservation_expires_at)
        .limit(EXPIRY_BATCH)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    orders = list(due)
    for order in orders:
        await _close_order(session, order, actor=None, note="Reservation expired", expired=True)
    return len(orders)


# --- staff status changes ---------------------------------------------------------------------


async def _confirm_payment(
    session: AsyncSession, staff: User, order: Order, note: str | None
) -> uuid.UUID | None:
    """Staff confirm the money arrived (a bank transfer, or paid another way)."""
    ensure_transition(order.status, PAID)
    bank = order.payment_provider == BANK_TRANSFER
    settled = await finalize_payment(
        session,
        order_id=order.id,
        provider=BANK_TRANSFER if bank else MANUAL,
        provider_payment_id=bank_reference(order) if bank else f"manual:{order.order_number}",
        amount_pence=order.total_pence,
        by=actor_label(staff),
        actor_id=staff.id,
        note=note or "Payment confirmed by the atelier",
    )
    return settled.refund_id


async def _apply_status(
    session: AsyncSession, staff: User, order: Order, data: StatusChange
) -> uuid.UUID | None:
    if data.status == PAID:
        return await _confirm_payment(session, staff, order, data.note)
    if data.status == CANCELLED:
        return await _close_order(
            session, order, actor=staff, note=data.note or "Cancelled by the atelier"
        )
    if data.status == REFUNDED:
        raise ConflictError("Refunds move money: use POST /api/orders/{id}/refund.")
    if data.status == SHIPPED:
        order.carrier = data.carrier or order.carrier
        order.tracking_number = data.tracking_number or order.tracking_number
    await move_order(
        session, order, data.status, by=actor_label(staff), actor_id=staff.id, note=data.note
    )
    if data.status == SHIPPED:
        await events.order_shipped(session, await order_customer(session, order), order)
    return None


async def change_status(
    session: AsyncSession, staff: User, order_id: uuid.UUID, data: StatusChange
) -> OrderChange:
    """Staff move an order along the state machine (409 when the table forbids it); audited.

    PAID confirms the payment through `finalize_payment`; CANCELLED cancels as `cancel_order`
    does; SHIPPED records the carrier and tracking number and emails the customer.
    """
    order = await lock_order(session, order_id)
    before = order.status
    refund_id = await _apply_status(session, staff, order, data)
    await record_event(
        session,
        "order.status_changed",
        actor_id=staff.id,
        target_type="order",
        target_id=order.id,
        details={"from": before, "to": order.status, "note": data.note},
    )
    return OrderChange(order, refund_id)
