"""Report rows and the staff sales report API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from elysium.kit.money import Money


class SalesGroup(StrEnum):
    DAY = "day"
    COLLECTION = "collection"


@dataclass(frozen=True, slots=True)
class DaySales:
    """One Europe/London day: orders paid that day, their totals, refunds issued that day."""

    day: date
    orders: int
    gross_pence: int
    refunds_pence: int

    @property
    def net_pence(self) -> int:
        return self.gross_pence - self.refunds_pence


@dataclass(frozen=True, slots=True)
class CollectionSales:
    """Lines of orders paid in the range, by the collection the piece belonged to."""

    collection: str | None
    orders: int
    units: int
    revenue_pence: int


@dataclass(frozen=True, slots=True)
class ProductSales:
    product_slug: str
    title: str
    units: int
    revenue_pence: int


@dataclass(frozen=True, slots=True)
class Funnel:
    """Product views → carts → orders over a range (see `reports.service.funnel`)."""

    visitors: int
    carts: int
    orders_placed: int
    orders_open: int
    orders_paid: int

    @property
    def view_to_cart(self) -> float | None:
        return _ratio(self.carts, self.visitors)

    @property
    def cart_to_order(self) -> float | None:
        return _ratio(self.orders_placed, self.carts)

    @property
    def abandonment(self) -> float | None:
        """Share of carts started that did not become an order (never below 0)."""
        ratio = _ratio(self.orders_placed, self.carts)
        return None if ratio is None else max(0.0, 1.0 - ratio)

    @property
    def completion(self) -> float | None:
        """Share of settled orders (placed, no longer awaiting payment) that were paid."""
        return _ratio(self.orders_paid, self.orders_placed - self.orders_open)


def _ratio(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


class SalesRowRead(BaseModel):
    """One row: `key` is the London day (YYYY-MM-DD) or the collection slug (null: none)."""

    key: str | None
    orders: int
    units: int | None = Field(None, description="Units sold (collection rows only).")
    gross: Money
    refunds: Money | None = Field(None, description="Refunds issued that day (day rows only).")
    net: Money


class SalesSummaryRead(BaseModel):
    """The whole range: paid orders, their totals, refunds issued, net, average order value."""

    orders: int
    gross: Money
    refunds: Money
    net: Money
    average_order_value: Money | None


class SalesReportRead(BaseModel):
    """Sales over `from`..`to` (Europe/London days, both included)."""

    from_: date = Field(alias="from")
    to: date
    group: SalesGroup
    definition: str
    rows: list[SalesRowRead]
    summary: SalesSummaryRead

    model_config = {"populate_by_name": True}
