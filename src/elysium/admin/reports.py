"""Reports over a range of London days, each table with its CSV download.

Every figure is defined in `elysium.reports.service` (module docstring); the page prints the
same definitions.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from elysium.accounts.deps import StaffUser
from elysium.admin.pages import csv_response, render
from elysium.admin.security import csrf_protect
from elysium.db import ReadSessionDep
from elysium.kit.money import pence_to_str
from elysium.kit.pagination import FromDayQuery, ToDayQuery
from elysium.reports import service

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])
COMPLETION_TARGET = 0.95  # the PRD: more than 95 % of orders completed
ABANDONMENT_TARGET = 0.30  # the PRD: fewer than 30 % of carts abandoned
TOP_PRODUCTS = 10

Table = Literal["sales-by-day", "sales-by-collection", "top-products", "funnel"]


@router.get("/reports")
async def reports(
    request: Request,
    staff: StaffUser,
    session: ReadSessionDep,
    first: FromDayQuery = None,
    last: ToDayQuery = None,
) -> Response:
    first, last = service.resolve_range(first, last)
    days = await service.sales_by_day(session, first, last)
    funnel = await service.funnel(session, first, last)
    return render(
        request,
        "reports.html",
        staff,
        first=first,
        last=last,
        days=days,
        summary=service.summarise(days),
        collections=await service.sales_by_collection(session, first, last),
        products=await service.top_products(session, first, last, TOP_PRODUCTS),
        funnel=funnel,
        completion_target=COMPLETION_TARGET,
        abandonment_target=ABANDONMENT_TARGET,
        query=f"from={first.isoformat()}&to={last.isoformat()}",
    )


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


@router.get("/reports/{table}.csv")
async def report_csv(
    table: Table,
    staff: StaffUser,
    session: ReadSessionDep,
    first: FromDayQuery = None,
    last: ToDayQuery = None,
) -> Response:
    """One report table as CSV; amounts in pounds (GBP) with two decimals, rates in percent."""
    first, last = service.resolve_range(first, last)
    name = f"{table}-{first.isoformat()}-{last.isoformat()}.csv"
    if table == "sales-by-day":
        days = await service.sales_by_day(session, first, last)
        return csv_response(
            name,
            ["day", "orders_paid", "gross_gbp", "refunds_gbp", "net_gbp"],
            [
                [
                    d.day.isoformat(),
                    d.orders,
                    pence_to_str(d.gross_pence),
                    pence_to_str(d.refunds_pence),
                    pence_to_str(d.net_pence),
                ]
                for d in days
            ],
        )
    if table == "sales-by-collection":
        rows = await service.sales_by_collection(session, first, last)
        return csv_response(
            name,
            ["collection", "orders", "units", "revenue_gbp"],
            [[c.collection or "", c.orders, c.units, pence_to_str(c.revenue_pence)] for c in rows],
        )
    if table == "top-products":
        products = await service.top_products(session, first, last, TOP_PRODUCTS)
        return csv_response(
            name,
            ["product_slug", "title", "units", "revenue_gbp"],
            [[p.product_slug, p.title, p.units, pence_to_str(p.revenue_pence)] for p in products],
        )
    f = await service.funnel(session, first, last)
    return csv_response(
        name,
        [
            "visitors",
            "carts",
            "orders_placed",
            "orders_awaiting_payment",
            "orders_paid",
            "view_to_cart_pct",
            "cart_to_order_pct",
            "cart_abandonment_pct",
            "order_completion_pct",
        ],
        [
            [
                f.visitors,
                f.carts,
                f.orders_placed,
                f.orders_open,
                f.orders_paid,
                _rate(f.view_to_cart),
                _rate(f.cart_to_order),
                _rate(f.abandonment),
                _rate(f.completion),
            ]
        ],
    )
