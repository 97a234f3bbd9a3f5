"""Reading orders: one order for its owner or staff, and the lists of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.errors import NotFoundError
from elysium.kit.keyset import decode_time_cursor, page_of
from elysium.kit.money import Money
from elysium.kit.pagination import Page
from elysium.models import (
    CreditNote,
    Order,
    OrderItem,
    OrderReturn,
    OrderReturnLine,
    OrderStatusChange,
    User,
)
from elysium.models.order import OrderPaymentStatus, OrderStatus
from elysium.orders.history import order_items
from elysium.orders.schemas import (
    CreditNoteRead,
    OrderItemRead,
    OrderRead,
    OrderSummary,
    PaymentDue,
    PaymentSummary,
    ReturnLineRead,
    ReturnRead,
    StatusChangeRead,
)
from elysium.payments import refunds
from elysium.payments.service import latest_payment


async def visible_order(session: AsyncSession, viewer: User, order_id: uuid.UUID) -> Order:
    """The order if the viewer owns it or is staff; another customer's is simply not found."""
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None or (order.user_id != viewer.id and not viewer.is_staff):
        raise NotFoundError("No such order.")
    return order


def _item_read(item: OrderItem, currency: str) -> OrderItemRead:
    return OrderItemRead(
        id=item.id,
        product_slug=item.product_slug,
        title=item.title,
        configuration=item.configuration,
        variant_key=item.variant_key,
        quantity=item.quantity,
        unit_price=Money.from_pence(item.unit_price_pence, currency),
        line_total=Money.from_pence(item.line_total_pence, currency),
        made_to_order=item.made_to_order,
    )


async def _history(session: AsyncSession, order_id: uuid.UUID) -> list[StatusChangeRead]:
    rows = await session.scalars(
        select(OrderStatusChange)
        .where(OrderStatusChange.order_id == order_id)
        .order_by(OrderStatusChange.at, OrderStatusChange.id)
    )
    return [StatusChangeRead(status=r.status, at=r.at, by=r.by, note=r.note) for r in rows]


async def _payment_summary(session: AsyncSession, order: Order) -> PaymentSummary | None:
    payment = await latest_payment(session, order.id)
    if payment is None:
        return None
    back = await refunds.refunded_pence(session, payment.id, refunds.SETTLED_STATES)
    return PaymentSummary(
        provider=payment.provider,
        status=payment.status,
        amount=Money.from_pence(payment.amount_pence, payment.currency),
        refunded=Money.from_pence(back, payment.currency),
    )


_FULLY_PAID = frozenset(
    {
        OrderPaymentStatus.PAID,
        OrderPaymentStatus.PARTIALLY_REFUNDED,
        OrderPaymentStatus.REFUNDED,
    }
)


def payments_due(order: Order) -> list[PaymentDue]:
    """The payment schedule and what of it is paid (refunds aside), from the order's status."""
    currency = order.currency
    paid_all = order.payment_status in _FULLY_PAID

    def due(kind: str, amount: int, paid: bool, when: str) -> PaymentDue:
        return PaymentDue.model_validate(
            {
                "kind": kind,
                "amount": Money.from_pence(amount, currency),
                "paid": Money.from_pence(amount if paid else 0, currency),
                "due": when,
            }
        )

    if order.deposit_pence is None:
        return [due("full", order.total_pence, paid_all, "now")]
    deposit_paid = paid_all or order.payment_status == OrderPaymentStatus.DEPOSIT_PAID
    balance = order.total_pence - order.deposit_pence
    return [
        due("deposit", order.deposit_pence, deposit_paid, "now"),
        due("balance", balance, paid_all, "before_shipping"),
    ]


def credit_note_read(order: Order, note: CreditNote) -> CreditNoteRead:
    return CreditNoteRead(
        number=note.number,
        invoice_number=note.invoice_number,
        amount=Money.from_pence(note.amount_pence, order.currency),
        vat=Money.from_pence(note.vat_pence, order.currency),
        reason=note.reason,
        issued_at=note.issued_at,
        url=f"/api/orders/{order.id}/credit-notes/{note.number}",
    )


def return_read(row: OrderReturn, lines: list[OrderReturnLine]) -> ReturnRead:
    return ReturnRead(
        id=row.id,
        order_id=row.order_id,
        status=row.status,
        reason=row.reason,
        note=row.note,
        restocked=row.restocked,
        lines=[
            ReturnLineRead(order_item_id=li.order_item_id, quantity=li.quantity) for li in lines
        ],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def order_returns(session: AsyncSession, order_id: uuid.UUID) -> list[ReturnRead]:
    """The order's returns, oldest first, with their lines (one query)."""
    rows = await session.execute(
        select(OrderReturn, OrderReturnLine)
        .join(OrderReturnLine, OrderReturnLine.return_id == OrderReturn.id)
        .where(OrderReturn.order_id == order_id)
        .order_by(OrderReturn.created_at, OrderReturn.id, OrderReturnLine.id)
    )
    grouped: dict[uuid.UUID, tuple[OrderReturn, list[OrderReturnLine]]] = {}
    for row, line in rows:
        grouped.setdefault(row.id, (row, []))[1].append(line)
    return [return_read(row, lines) for row, lines in grouped.values()]


async def _credit_notes(session: AsyncSession, order: Order) -> list[CreditNoteRead]:
    if order.invoice_number is None:
        return []
    rows = await session.scalars(
        select(CreditNote).where(CreditNote.order_id == order.id).order_by(CreditNote.number)
    )
    return [credit_note_read(order, note) for note in rows]


def order_read(
    order: Order,
    items: list[OrderItem],
    history: list[StatusChangeRead],
    payment: PaymentSummary | None,
    *,
    credit_notes: list[CreditNoteRead] | None = None,
    returns: list[ReturnRead] | None = None,
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
        vat_treatment=order.vat_treatment,
        vat_rate=order.vat_rate_percent,
        gift_message=order.gift_message,
        payments_due=payments_due(order),
        invoice_number=order.invoice_number,
        credit_notes=credit_notes or [],
        returns=returns or [],
    )


async def read_order(session: AsyncSession, order: Order) -> OrderRead:
    """Load the order's lines, history, payment, credit notes and returns and render it."""
    return order_read(
        order,
        await order_items(session, order.id),
        await _history(session, order.id),
        await _payment_summary(session, order),
        credit_notes=await _credit_notes(session, order),
        returns=await order_returns(session, order.id),
    )


async def get_order(session: AsyncSession, viewer: User, order_id: uuid.UUID) -> OrderRead:
    """One order, for its owner or staff."""
    return await read_order(session, await visible_order(session, viewer, order_id))


def summary_fields(order: Order) -> dict[str, Any]:
    """What every one-line summary of an order shows (the client's list and the staff's)."""
    return {
        "id": order.id,
        "order_number": order.order_number,
        "status": order.status,
        "payment_status": order.payment_status,
        "total": Money.from_pence(order.total_pence, order.currency),
        "created_at": order.created_at,
    }


def _summary(order: Order) -> OrderSummary:
    return OrderSummary(**summary_fields(order))


async def list_orders(
    session: AsyncSession, user: User, limit: int, cursor: str | None
) -> Page[OrderSummary]:
    """The user's own orders, newest first."""
    return await _order_page(session, select(Order).where(Order.user_id == user.id), limit, cursor)


async def list_all_orders(
    session: AsyncSession, status: OrderStatus | None, limit: int, cursor: str | None
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


async def ordered_since(
    session: AsyncSession, user_id: uuid.UUID, product_ids: Sequence[uuid.UUID], since: datetime
) -> bool:
    """Whether the user has ordered any of these products since `since`."""
    found = await session.scalar(
        select(
            select(OrderItem.id)
            .join(Order, Order.id == OrderItem.order_id)
            .where(
                Order.user_id == user_id,
                Order.created_at >= since,
                OrderItem.product_id.in_(product_ids),
            )
            .exists()
        )
    )
    return bool(found)
