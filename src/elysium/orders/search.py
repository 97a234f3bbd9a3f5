"""Staff searching every order: text, status, payment status, date range, sort, cursor pages.

`q` matches the order number, the customer's email or name (case-insensitive, substring).
Dates are London calendar days, both ends included. Each sort pages by its own keyset
(`(sort value, id)`), so a cursor names the sort it was issued for.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.errors import ValidationFailedError
from elysium.kit.clock import SHOP_TZ, london_midnight
from elysium.kit.pagination import Page, decode_cursor, encode_cursor
from elysium.kit.search import contains_pattern
from elysium.kit.spreadsheet import looks_like_a_formula
from elysium.models import Order, User
from elysium.models.order import OrderPaymentStatus, OrderStatus
from elysium.orders.read import summary_fields
from elysium.orders.schemas import StaffOrderSummary

EXPORT_BATCH = 500
CSV_COLUMNS = [
    "order_number",
    "placed_at",
    "status",
    "payment_status",
    "customer_email",
    "customer_name",
    "total",
    "currency",
]


class OrderSort(StrEnum):
    """How the staff order list is ordered."""

    NEWEST = "newest"
    OLDEST = "oldest"
    TOTAL_DESC = "total_desc"
    TOTAL_ASC = "total_asc"


@dataclass(frozen=True)
class OrderFilters:
    """What the staff order list is narrowed to (every field optional)."""

    q: str | None = None
    status: OrderStatus | None = None
    payment_status: OrderPaymentStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    customer_id: uuid.UUID | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as query-string values (for links and the CSV export)."""
        values = {
            "q": self.q,
            "status": self.status,
            "payment_status": self.payment_status,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }
        return {k: str(v) for k, v in values.items() if v}


def _conditions(filters: OrderFilters) -> list[ColumnElement[bool]]:
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationFailedError(
            "`from` is after `to`.", errors=[{"field": "from", "message": "after `to`"}]
        )
    where: list[ColumnElement[bool]] = []
    q = (filters.q or "").strip()
    if q:
        pattern = contains_pattern(q)
        where.append(
            or_(
                Order.order_number.ilike(pattern, escape="\\"),
                User.email.ilike(pattern, escape="\\"),
                User.name.ilike(pattern, escape="\\"),
            )
        )
    if filters.status is not None:
        where.append(Order.status == filters.status)
    if filters.payment_status is not None:
        where.append(Order.payment_status == filters.payment_status)
    if filters.date_from is not None:
        where.append(Order.created_at >= london_midnight(filters.date_from))
    if filters.date_to is not None:
        where.append(Order.created_at < london_midnight(filters.date_to + timedelta(days=1)))
    if filters.customer_id is not None:
        where.append(Order.user_id == filters.customer_id)
    return where


def _bad_cursor() -> ValidationFailedError:
    return ValidationFailedError(
        "The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid cursor"}]
    )


def _after(sort: OrderSort, cursor: str | None) -> ColumnElement[bool] | None:
    values = decode_cursor(cursor, 3)
    if values is None:
        return None
    if values[0] != sort.value:
        raise _bad_cursor()
    try:
        ident = uuid.UUID(str(values[2]))
        by_time = sort in (OrderSort.NEWEST, OrderSort.OLDEST)
        key: Any = datetime.fromisoformat(values[1]) if by_time else int(values[1])
        if by_time and key.tzinfo is None:
            raise ValueError("naive timestamp")
    except (TypeError, ValueError) as exc:
        raise _bad_cursor() from exc
    column = Order.created_at if by_time else Order.total_pence
    pair = tuple_(column, Order.id)
    descending = sort in (OrderSort.NEWEST, OrderSort.TOTAL_DESC)
    return pair < (key, ident) if descending else pair > (key, ident)


def _ordered(statement: Select[Order, User], sort: OrderSort) -> Select[Order, User]:
    column = Order.created_at if sort in (OrderSort.NEWEST, OrderSort.OLDEST) else Order.total_pence
    if sort in (OrderSort.NEWEST, OrderSort.TOTAL_DESC):
        return statement.order_by(column.desc(), Order.id.desc())
    return statement.order_by(column.asc(), Order.id.asc())


def _cursor_of(sort: OrderSort, order: Order) -> str:
    by_time = sort in (OrderSort.NEWEST, OrderSort.OLDEST)
    key = order.created_at.isoformat() if by_time else order.total_pence
    return encode_cursor([sort.value, key, str(order.id)])


def _row(order: Order, user: User) -> StaffOrderSummary:
    return StaffOrderSummary(
        **summary_fields(order),
        customer_id=user.id,
        customer_email=user.email,
        customer_name=user.name,
    )


async def search_orders(
    session: AsyncSession,
    filters: OrderFilters,
    limit: int,
    cursor: str | None,
    sort: OrderSort = OrderSort.NEWEST,
) -> Page[StaffOrderSummary]:
    """One page of every customer's orders matching `filters`, in `sort` order (staff)."""
    statement = select(Order, User).join(User, User.id == Order.user_id)
    where = _conditions(filters)
    after = _after(sort, cursor)
    if after is not None:
        where.append(after)
    rows = list(await session.execute(_ordered(statement.where(*where), sort).limit(limit + 1)))
    next_cursor = _cursor_of(sort, rows[limit - 1][0]) if len(rows) > limit else None
    return Page(items=[_row(o, u) for o, u in rows[:limit]], next_cursor=next_cursor)


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if looks_like_a_formula(value) else value


async def orders_csv(
    session: AsyncSession, filters: OrderFilters, sort: OrderSort = OrderSort.NEWEST
) -> str:
    """Every order matching `filters` as CSV text, header first, read a batch at a time.

    Built whole inside the request's transaction (not streamed after it has ended).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    cursor: str | None = None
    while True:
        page = await search_orders(session, filters, EXPORT_BATCH, cursor, sort)
        writer.writerows(
            [
                row.order_number,
                row.created_at.astimezone(SHOP_TZ).strftime("%Y-%m-%d %H:%M"),
                row.status,
                row.payment_status,
                _csv_safe(row.customer_email),
                _csv_safe(row.customer_name or ""),
                row.total.amount,
                row.total.currency,
            ]
            for row in page.items
        )
        if page.next_cursor is None:
            return buffer.getvalue()
        cursor = page.next_cursor
