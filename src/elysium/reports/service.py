"""Sales and funnel figures over Europe/London days, each defined exactly once here.

Definitions (the back office prints the same sentences next to each figure):

- **Gross sales** of a day: the totals (VAT, shipping and discounts included) of the orders whose
  payment was confirmed (`orders.paid_at`) on that London day.
- **Refunds** of a day: the amounts of refunds opened that London day and not refused by the
  payment provider (state requested, pending or succeeded), whichever day the order was paid.
- **Net revenue** = gross sales - refunds. "Today / this week (from Monday) / this month" on the
  dashboard are net revenue over those London days up to now.
- **Average order value** = gross sales ÷ orders paid in the range, rounded half up to the penny.
- **Sales by collection**: the line totals (before order-level discount and shipping) of orders
  paid in the range, grouped by the collection the piece belonged to when ordered.
- **Top products**: the same lines grouped by product, ranked by revenue then units.
- **Funnel**: *visitors* = distinct viewers of product pages in the range (a signed-in customer or
  a guest's analytics session; views carrying neither are not counted); *carts* = carts created in
  the range (a customer keeps one cart, so a returning customer counts once, when first created);
  *orders placed* = orders created in the range.
- **Cart abandonment rate** = 1 - orders placed ÷ carts (never below 0): the share of carts
  started that did not turn into an order. Target: below 30 %.
- **Order completion rate** = orders placed in the range that were paid ÷ those no longer awaiting
  payment (placed minus those still PENDING, PROCESSING or PAYMENT_FAILED). Target: above 95 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Date, String, cast, distinct, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from elysium.errors import ValidationFailedError
from elysium.kit.clock import SHOP_TZ_NAME, london_midnight, london_today
from elysium.kit.money import Money
from elysium.models import Cart, Order, OrderItem, ProductView, Refund
from elysium.models.payment import RefundState
from elysium.orders.state import UNPAID
from elysium.reports.schemas import (
    CollectionSales,
    DaySales,
    Funnel,
    ProductSales,
    SalesGroup,
    SalesReportRead,
    SalesRowRead,
    SalesSummaryRead,
)

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
SALES_DEFINITION = (
    "Gross: totals of orders whose payment was confirmed that London day. Refunds: refunds "
    "opened that day and not refused by the provider. Net = gross - refunds. Average order "
    "value = gross ÷ orders paid. By collection: line totals of paid orders before order "
    "discounts and shipping."
)


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants of London midnight starting `first` and ending `last`."""
    return london_midnight(first), london_midnight(last + timedelta(days=1))


def resolve_range(
    first: date | None, last: date | None, today: date | None = None
) -> tuple[date, date]:
    """The asked range, by default the last 30 London days; 422 when reversed or too long."""
    last = last or (today or london_today())
    first = first or last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if last < first:
        raise _range_error("`to` must not be before `from`.")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise _range_error(f"Ask for at most {MAX_RANGE_DAYS} days at a time.")
    return first, last


def _range_error(detail: str) -> ValidationFailedError:
    return ValidationFailedError(detail, errors=[{"field": "to", "message": detail}])


def _london_day(column: InstrumentedAttribute[datetime | None]) -> ColumnElement[date]:
    return cast(func.timezone(SHOP_TZ_NAME, column), Date)


def _paid_between(first: date, last: date) -> ColumnElement[bool]:
    start, end = day_bounds(first, last)
    return Order.paid_at.is_not(None) & (Order.paid_at >= start) & (Order.paid_at < end)


async def sales_by_day(session: AsyncSession, first: date, last: date) -> list[DaySales]:
    """Every London day of the range (zeros included): orders paid, gross, refunds."""
    start, end = day_bounds(first, last)
    paid_day = _london_day(Order.paid_at).label("day")
    paid = await session.execute(
        select(paid_day, func.count(), func.sum(Order.total_pence))
        .where(_paid_between(first, last))
        .group_by(paid_day)
    )
    refund_day = _london_day(Refund.created_at).label("day")
    refunded = await session.execute(
        select(refund_day, func.sum(Refund.amount_pence))
        .where(
            Refund.status != RefundState.FAILED,
            Refund.created_at >= start,
            Refund.created_at < end,
        )
        .group_by(refund_day)
    )
    gross = {day: (int(count), int(total)) for day, count, total in paid}
    refunds = {day: int(total) for day, total in refunded}
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [
        DaySales(d, gross.get(d, (0, 0))[0], gross.get(d, (0, 0))[1], refunds.get(d, 0))
        for d in days
    ]


def average_pence(total: int, count: int) -> int | None:
    """`total ÷ count` rounded half up to the penny (None for no orders)."""
    if count <= 0:
        return None
    return (2 * total + count) // (2 * count)


def summarise(days: Sequence[DaySales]) -> SalesSummaryRead:
    """Orders, gross, refunds, net and average order value over `days`."""
    orders = sum(d.orders for d in days)
    gross = sum(d.gross_pence for d in days)
    refunds = sum(d.refunds_pence for d in days)
    average = average_pence(gross, orders)
    return SalesSummaryRead(
        orders=orders,
        gross=Money.from_pence(gross),
        refunds=Money.from_pence(refunds),
        net=Money.from_pence(gross - refunds),
        average_order_value=None if average is None else Money.from_pence(average),
    )


def revenue_to_date(days: Sequence[DaySales], today: date) -> dict[str, int]:
    """Net revenue today, this week (from Monday) and this month, from `days` ending today."""
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)

    def net_since(first: date) -> int:
        return sum(d.net_pence for d in days if first <= d.day <= today)

    return {
        "today": net_since(today),
        "week": net_since(week_start),
        "month": net_since(month_start),
    }


async def sales_by_collection(
    session: AsyncSession, first: date, last: date
) -> list[CollectionSales]:
    """Lines of orders paid in the range, by collection, highest revenue first."""
    rows = await session.execute(
        select(
            OrderItem.collection_slug,
            func.count(distinct(OrderItem.order_id)),
            func.sum(OrderItem.quantity),
            func.sum(OrderItem.line_total_pence),
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(_paid_between(first, last))
        .group_by(OrderItem.collection_slug)
        .order_by(func.sum(OrderItem.line_total_pence).desc(), OrderItem.collection_slug)
    )
    return [CollectionSales(slug, int(o), int(u), int(r)) for slug, o, u, r in rows]


async def top_products(
    session: AsyncSession, first: date, last: date, limit: int = 10
) -> list[ProductSales]:
    """The products with the most revenue (then units) in orders paid in the range."""
    revenue = func.sum(OrderItem.line_total_pence)
    units = func.sum(OrderItem.quantity)
    rows = await session.execute(
        select(OrderItem.product_slug, func.max(OrderItem.title), units, revenue)
        .join(Order, Order.id == OrderItem.order_id)
        .where(_paid_between(first, last))
        .group_by(OrderItem.product_slug)
        .order_by(revenue.desc(), units.desc(), OrderItem.product_slug)
        .limit(limit)
    )
    return [ProductSales(slug, title, int(u), int(r)) for slug, title, u, r in rows]


async def funnel(session: AsyncSession, first: date, last: date) -> Funnel:
    """Visitors, carts and orders of the range (definitions in the module docstring)."""
    start, end = day_bounds(first, last)
    viewer = func.coalesce(
        literal("u:") + cast(ProductView.user_id, String), literal("s:") + ProductView.session_id
    )
    visitors = await session.scalar(
        select(func.count(distinct(viewer))).where(
            ProductView.viewed_at >= start, ProductView.viewed_at < end
        )
    )
    carts = await session.scalar(
        select(func.count()).where(Cart.created_at >= start, Cart.created_at < end)
    )
    placed = (Order.created_at >= start) & (Order.created_at < end)
    counts = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Order.status.in_(UNPAID)),
                func.count().filter(Order.paid_at.is_not(None)),
            ).where(placed)
        )
    ).one()
    return Funnel(
        int(visitors or 0), int(carts or 0), int(counts[0]), int(counts[1]), int(counts[2])
    )


def _row(key: str | None, orders: int, gross: int, **extra: object) -> SalesRowRead:
    return SalesRowRead.model_validate(
        {"key": key, "orders": orders, "gross": Money.from_pence(gross)} | extra
    )


async def sales_report(
    session: AsyncSession, first: date | None, last: date | None, group: SalesGroup
) -> SalesReportRead:
    """The staff sales report over a London date range, by day or by collection."""
    first, last = resolve_range(first, last)
    days = await sales_by_day(session, first, last)
    if group is SalesGroup.DAY:
        rows = [
            _row(
                d.day.isoformat(),
                d.orders,
                d.gross_pence,
                refunds=Money.from_pence(d.refunds_pence),
                net=Money.from_pence(d.net_pence),
            )
            for d in days
        ]
    else:
        rows = [
            _row(
                c.collection,
                c.orders,
                c.revenue_pence,
                units=c.units,
                net=Money.from_pence(c.revenue_pence),
            )
            for c in await sales_by_collection(session, first, last)
        ]
    return SalesReportRead(
        from_=first,
        to=last,
        group=group,
        definition=SALES_DEFINITION,
        rows=rows,
        summary=summarise(days),
    )
