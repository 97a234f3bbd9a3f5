"""Returns (UK Consumer Contracts Regulations): a customer may send delivered lines back within
the return window (14 days from delivery); personalised pieces (engraved, or made to order)
are exempt by law. Staff move a return requested -> authorised -> received -> refunded, or
reject it with a reason; the customer is emailed at each step.

On `received` the units go back to stock through the ledger (reason `return`) unless staff keep
them out (`restock: false`, say for inspection). Refunding uses the orders' refund path
(idempotent per return, never more than was paid), and the order becomes REFUNDED once
everything paid has gone back.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.errors import (
    ConflictError,
    IllegalTransitionError,
    NotFoundError,
    ValidationFailedError,
)
from elysium.kit.clock import utcnow
from elysium.models import Order, OrderItem, OrderReturn, OrderReturnLine, OrderStatusChange, User
from elysium.models.returns import ReturnStatus
from elysium.notifications.emails import send_email
from elysium.orders import refund
from elysium.orders.history import actor_label, lock_order, order_customer, order_items
from elysium.orders.read import order_returns, return_read, visible_order
from elysium.orders.restock import restock_lines
from elysium.orders.schemas import ReturnCreate, ReturnRead, ReturnUpdate
from elysium.orders.state import DELIVERED

REQUESTED: Final = ReturnStatus.REQUESTED
AUTHORISED: Final = ReturnStatus.AUTHORISED
RECEIVED: Final = ReturnStatus.RECEIVED
REFUNDED: Final = ReturnStatus.REFUNDED
REJECTED: Final = ReturnStatus.REJECTED

MOVES: Final[dict[ReturnStatus, frozenset[ReturnStatus]]] = {
    REQUESTED: frozenset({AUTHORISED, REJECTED}),
    AUTHORISED: frozenset({RECEIVED, REJECTED}),
    RECEIVED: frozenset({REFUNDED, REJECTED}),
    REFUNDED: frozenset(),
    REJECTED: frozenset(),
}

_HEADLINES: Final = {
    REQUESTED: ("Your return request", "We have received your request and will reply shortly."),
    AUTHORISED: (
        "Your return is authorised",
        "Please send the pieces back to our atelier, insured, with your order number.",
    ),
    RECEIVED: ("We have received your return", "Your refund follows once it is processed."),
    REFUNDED: ("Your return is refunded", "The refund goes back to your original payment."),
    REJECTED: ("Your return could not be accepted", "Please see our note below."),
}


def personalised(item: OrderItem) -> bool:
    """Engraved or made to order: exempt from the right to cancel."""
    return item.made_to_order or bool(item.configuration.get("engraving"))


def _reference(row: OrderReturn) -> str:
    return f"RET-{row.id.hex[:8].upper()}"


async def _delivered_at(session: AsyncSession, order: Order) -> datetime | None:
    return await session.scalar(
        select(func.max(OrderStatusChange.at)).where(
            OrderStatusChange.order_id == order.id, OrderStatusChange.status == DELIVERED
        )
    )


async def _returned(session: AsyncSession, order_id: uuid.UUID) -> Counter[uuid.UUID]:
    """Units of each line already in a return that was not rejected."""
    rows = await session.execute(
        select(OrderReturnLine.order_item_id, func.sum(OrderReturnLine.quantity))
        .join(OrderReturn, OrderReturn.id == OrderReturnLine.return_id)
        .where(OrderReturn.order_id == order_id, OrderReturn.status != REJECTED)
        .group_by(OrderReturnLine.order_item_id)
    )
    return Counter({item_id: int(total) for item_id, total in rows})


def _line_error(index: int, message: str) -> ValidationFailedError:
    field = f"lines.{index}.order_item_id"
    return ValidationFailedError(message, errors=[{"field": field, "message": message}])


def _check_lines(
    data: ReturnCreate, items: dict[uuid.UUID, OrderItem], returned: Counter[uuid.UUID]
) -> None:
    wanted: Counter[uuid.UUID] = Counter()
    for n, line in enumerate(data.lines):
        item = items.get(line.order_item_id)
        if item is None:
            raise _line_error(n, "This order has no such line.")
        if personalised(item):
            raise _line_error(
                n,
                f"{item.title} is personalised (engraved or made to order) and cannot be returned.",
            )
        wanted[item.id] += line.quantity
        if wanted[item.id] + returned[item.id] > item.quantity:
            left = item.quantity - returned[item.id]
            raise _line_error(n, f"Only {max(left, 0)} of {item.title} can still be returned.")


async def _ensure_returnable(session: AsyncSession, settings: Settings, order: Order) -> None:
    if order.status != DELIVERED:
        raise ConflictError(f"Only delivered orders can be returned; this one is {order.status}.")
    delivered = await _delivered_at(session, order)
    window = timedelta(days=settings.return_window_days)
    if delivered is None or utcnow() > delivered + window:
        raise ConflictError(
            f"Returns must be asked for within {settings.return_window_days} days of delivery."
        )


async def request_return(
    session: AsyncSession, settings: Settings, user: User, order_id: uuid.UUID, data: ReturnCreate
) -> ReturnRead:
    """A return of delivered lines (owner or staff): 409 when the order is not delivered or
    the window has passed, 422 naming a line that is personalised, unknown or over-returned."""
    await visible_order(session, user, order_id)
    order = await lock_order(session, order_id)
    await _ensure_returnable(session, settings, order)
    items = {item.id: item for item in await order_items(session, order.id)}
    _check_lines(data, items, await _returned(session, order.id))
    row = OrderReturn(id=uuid.uuid4(), order_id=order.id, status=REQUESTED, reason=data.reason)
    session.add(row)
    await session.flush()
    lines = [
        OrderReturnLine(return_id=row.id, order_item_id=li.order_item_id, quantity=li.quantity)
        for li in data.lines
    ]
    session.add_all(lines)
    await session.flush()
    await session.refresh(row)
    await _tell(session, settings, order, row, lines, items)
    return return_read(row, lines)


async def list_returns(session: AsyncSession, user: User, order_id: uuid.UUID) -> list[ReturnRead]:
    """The order's returns, oldest first (owner or staff)."""
    order = await visible_order(session, user, order_id)
    return await order_returns(session, order.id)


async def _locked_return(session: AsyncSession, return_id: uuid.UUID) -> tuple[Order, OrderReturn]:
    """The return and its order, locked (the order first, as every order use case does)."""
    order_id = await session.scalar(select(OrderReturn.order_id).where(OrderReturn.id == return_id))
    if order_id is None:
        raise NotFoundError("No such return.")
    order = await lock_order(session, order_id)
    row = await session.scalar(
        select(OrderReturn)
        .where(OrderReturn.id == return_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return order, row


def ensure_move(row: OrderReturn, data: ReturnUpdate) -> None:
    """409 unless `MOVES` allows the move; 422 for a rejection without a reason."""
    if data.status not in MOVES[row.status]:
        allowed = ", ".join(sorted(MOVES[row.status])) or "none"
        raise IllegalTransitionError(
            f"A return cannot go from {row.status} to {data.status} (allowed: {allowed}).",
            extra={"from": str(row.status), "to": str(data.status)},
        )
    if data.status == REJECTED and data.note is None:
        message = "Say why the return is rejected."
        raise ValidationFailedError(message, errors=[{"field": "note", "message": message}])


async def update_return(
    session: AsyncSession, settings: Settings, staff: User, return_id: uuid.UUID, data: ReturnUpdate
) -> ReturnRead:
    """Staff move a return along its workflow (409 for a move it does not allow); audited."""
    order, row = await _locked_return(session, return_id)
    ensure_move(row, data)
    lines = list(
        await session.scalars(select(OrderReturnLine).where(OrderReturnLine.return_id == row.id))
    )
    items = {item.id: item for item in await order_items(session, order.id)}
    if data.status == RECEIVED:
        row.restocked = data.restock
        if data.restock:
            back = [(items[li.order_item_id], li.quantity) for li in lines]
            await restock_lines(session, order, back, staff.id, f"return {_reference(row)}")
    elif data.status == REFUNDED:
        row.refund_id = await _refund(session, settings, staff, order, row, lines, items)
    before = row.status
    row.status = data.status
    row.note = data.note or row.note
    row.updated_at = utcnow()
    await session.flush()
    await record_event(
        session,
        "order.return_changed",
        actor_id=staff.id,
        target_type="order",
        target_id=order.id,
        details={"return_id": str(row.id), "from": str(before), "to": str(row.status)},
    )
    await _tell(session, settings, order, row, lines, items)
    return return_read(row, lines)


def return_value(
    order: Order, lines: list[OrderReturnLine], items: dict[uuid.UUID, OrderItem]
) -> int:
    """What the returned lines were paid: their price less their share of the discount."""
    value = sum(items[li.order_item_id].unit_price_pence * li.quantity for li in lines)
    if not order.discount_pence or not order.subtotal_pence:
        return value
    share = (2 * order.discount_pence * value + order.subtotal_pence) // (2 * order.subtotal_pence)
    return value - share


async def _everything_returned(
    session: AsyncSession, order: Order, items: dict[uuid.UUID, OrderItem]
) -> bool:
    rows = await session.execute(
        select(OrderReturnLine.order_item_id, func.sum(OrderReturnLine.quantity))
        .join(OrderReturn, OrderReturn.id == OrderReturnLine.return_id)
        .where(
            OrderReturn.order_id == order.id,
            OrderReturn.status.in_((RECEIVED, REFUNDED)),
        )
        .group_by(OrderReturnLine.order_item_id)
    )
    back = {item_id: int(total) for item_id, total in rows}
    return all(back.get(item.id, 0) >= item.quantity for item in items.values())


async def _refund(
    session: AsyncSession,
    settings: Settings,
    staff: User,
    order: Order,
    row: OrderReturn,
    lines: list[OrderReturnLine],
    items: dict[uuid.UUID, OrderItem],
) -> uuid.UUID:
    """Set aside the return's refund: the lines' value, or all that is left (shipping too)
    when every unit of the order has come back."""
    payment = await refund.refundable_payment(session, order.id)
    everything = await _everything_returned(session, order, items)
    money_back = await refund.set_aside(
        session,
        settings,
        order,
        payment,
        amount_pence=None if everything else return_value(order, lines, items),
        reason=f"Return {_reference(row)}",
        idempotency_key=f"return:{row.id}",
        actor_id=staff.id,
        by=actor_label(staff),
    )
    return money_back.id


async def _tell(
    session: AsyncSession,
    settings: Settings,
    order: Order,
    row: OrderReturn,
    lines: list[OrderReturnLine],
    items: dict[uuid.UUID, OrderItem],
) -> None:
    customer = await order_customer(session, order)
    headline, message = _HEADLINES[row.status]
    context: dict[str, Any] = {
        "customer_name": customer.name or "Client",
        "order_number": order.order_number,
        "currency": order.currency,
        "order_url": f"{settings.public_base_url}/account/orders/{order.id}",
        "headline": headline,
        "message": message,
        "return_reference": _reference(row),
        "status_label": str(row.status),
        "lines": [
            {"title": items[li.order_item_id].title, "quantity": li.quantity} for li in lines
        ],
        "note": row.note,
    }
    await send_email(
        session,
        to=customer.email,
        template="return_update",
        context=context,
        idempotency_key=f"return:{row.id}:{row.status}",
    )
