"""Reports: figures checked against sums worked out by hand, on London days across the spring
clock change (29 March 2026, 01:00 UTC), in the page, the CSV downloads and the staff API."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from admin_helpers import sign_in_staff
from backoffice import Line, insert_order, insert_refund
from elysium.models import Cart, ProductView
from elysium.models.order import OrderStatus
from elysium.models.payment import RefundState
from factories import Account, create_product, make_account

RANGE = "from=2026-03-28&to=2026-03-30"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
async def spring_sales(app: FastAPI) -> Account:
    """Orders, refunds, carts and views around the clock change; the expected figures are in
    the tests' comments, worked out by hand."""
    buyer = await make_account(app)
    aurora = Line("aurora-ring", "Aurora Ring", "aurora", 1, 100000)
    # A: paid 28 Mar 10:00 GMT, £1,000.00
    a = await insert_order(
        app, buyer, total_pence=100000, paid_at=at("2026-03-28T10:00"), lines=[aurora]
    )
    # B: paid 28 Mar 23:30 GMT (still the 28th in London), £2,500.50
    await insert_order(
        app,
        buyer,
        total_pence=250050,
        paid_at=at("2026-03-28T23:30"),
        lines=[
            Line("celeste-necklace", "Céleste Necklace", "celeste", 2, 240050),
            Line("aurora-ring", "Aurora Ring", "aurora", 1, 10000),
        ],
    )
    # C: paid 29 Mar 23:30 UTC = 30 Mar 00:30 BST: counts on the 30th, £999.99
    await insert_order(
        app,
        buyer,
        total_pence=99999,
        paid_at=at("2026-03-29T23:30"),
        lines=[Line("aurora-ring", "Aurora Ring", "aurora", 1, 99999)],
    )
    # D: paid 27 Mar 23:59 GMT: outside the range
    d = await insert_order(app, buyer, total_pence=500000, paid_at=at("2026-03-27T23:59"))
    # E: placed on the 29th, still awaiting payment; F: placed on the 28th, cancelled unpaid
    await insert_order(
        app, buyer, total_pence=1000, paid_at=None, created_at=at("2026-03-29T12:00")
    )
    await insert_order(
        app,
        buyer,
        total_pence=1000,
        paid_at=None,
        created_at=at("2026-03-28T12:00"),
        status=OrderStatus.CANCELLED,
    )
    # refunds: £200.00 of A on the 30th; £10.00 of D on the 29th (00:30 GMT); a failed one
    await insert_refund(app, a, 20000, at("2026-03-30T09:00"))
    await insert_refund(app, d, 1000, at("2026-03-29T00:30"))
    await insert_refund(app, a, 5000, at("2026-03-29T10:00"), RefundState.FAILED)
    await _carts_and_views(app, buyer)
    return buyer


async def _carts_and_views(app: FastAPI, buyer: Account) -> None:
    """10 carts in the range (+1 before); 21 visitors in the range (+ ones not counted)."""
    piece = await create_product(app)
    async with app.state.sessionmaker() as session, session.begin():
        for n in range(10):
            session.add(Cart(token_hash=uuid.uuid4().hex, created_at=at(f"2026-03-29T{n:02d}:05")))
        session.add(Cart(token_hash=uuid.uuid4().hex, created_at=at("2026-03-27T12:00")))
        for n in range(20):  # 20 guests, the first of them twice
            session.add(
                ProductView(
                    product_id=piece.id, session_id=f"guest-{n}", viewed_at=at("2026-03-28T12:00")
                )
            )
        session.add(
            ProductView(product_id=piece.id, session_id="guest-0", viewed_at=at("2026-03-30T12:00"))
        )
        for _ in range(3):  # one customer, three views
            session.add(
                ProductView(
                    product_id=piece.id,
                    user_id=uuid.UUID(buyer.id),
                    viewed_at=at("2026-03-29T12:00"),
                )
            )
        session.add(ProductView(product_id=piece.id, viewed_at=at("2026-03-29T12:00")))  # nobody
        session.add(
            ProductView(
                product_id=piece.id, session_id="guest-99", viewed_at=at("2026-03-27T12:00")
            )
        )  # before the range


async def test_sales_by_day_api_matches_the_hand_sums(
    client: AsyncClient, staff: Account, spring_sales: Account
) -> None:
    response = await client.get(f"/api/admin/reports/sales?{RANGE}", headers=staff.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["group"]) == ("2026-03-28", "2026-03-30", "day")
    rows = [
        (r["key"], r["orders"], r["gross"]["amount"], r["refunds"]["amount"], r["net"]["amount"])
        for r in body["rows"]
    ]
    assert rows == [
        ("2026-03-28", 2, "3500.50", "0.00", "3500.50"),  # A + B
        ("2026-03-29", 0, "0.00", "10.00", "-10.00"),  # D's refund
        ("2026-03-30", 1, "999.99", "200.00", "799.99"),  # C; A's refund
    ]
    # 3 orders, £4,500.49 gross, £210.00 refunded; average 450049 / 3 = 150016.33 -> £1,500.16
    assert body["summary"] == {
        "orders": 3,
        "gross": {"amount": "4500.49", "currency": "GBP"},
        "refunds": {"amount": "210.00", "currency": "GBP"},
        "net": {"amount": "4290.49", "currency": "GBP"},
        "average_order_value": {"amount": "1500.16", "currency": "GBP"},
    }
    assert "refunds" in body["definition"].lower()


async def test_sales_by_collection_api(
    client: AsyncClient, staff: Account, spring_sales: Account
) -> None:
    response = await client.get(
        f"/api/admin/reports/sales?{RANGE}&group=collection", headers=staff.headers
    )

    assert response.status_code == 200, response.text
    rows = [
        (r["key"], r["orders"], r["units"], r["gross"]["amount"]) for r in response.json()["rows"]
    ]
    assert rows == [
        ("celeste", 1, 2, "2400.50"),
        ("aurora", 3, 3, "2099.99"),  # 1000.00 + 100.00 + 999.99
    ]


async def test_the_sales_api_refuses_bad_ranges_and_non_staff(
    client: AsyncClient, staff: Account, customer: Account
) -> None:
    for query in (
        "from=2026-03-30&to=2026-03-28",
        "from=2025-01-01&to=2026-03-28",
        "group=week",
        "from=yesterday",
        "to=9999-12-31",
    ):
        response = await client.get(f"/api/admin/reports/sales?{query}", headers=staff.headers)
        assert response.status_code == 422, query
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/admin/reports/sales")).status_code == 401
    refused = await client.get("/api/admin/reports/sales", headers=customer.headers)
    assert refused.status_code == 403
    default = await client.get("/api/admin/reports/sales", headers=staff.headers)
    assert len(default.json()["rows"]) == 30


async def test_reports_page_shows_the_figures_and_the_targets(
    client: AsyncClient, staff: Account, spring_sales: Account
) -> None:
    await sign_in_staff(client, staff)

    page = await client.get(f"/admin/reports?{RANGE}")

    assert page.status_code == 200
    text = page.text
    assert 'data-testid="gross">£4,500.49<' in text
    assert 'data-testid="refunds">£210.00<' in text
    assert 'data-testid="net">£4,290.49<' in text
    assert 'data-testid="aov">£1,500.16<' in text
    assert 'data-testid="visitors">21<' in text
    assert 'data-testid="carts">10<' in text
    assert 'data-testid="orders-placed">5<' in text  # A, B, C, E, F (D was placed the 27th)
    # completion: 3 paid / (5 placed - 1 awaiting payment) = 75.0 %, target above 95 %
    assert 'data-testid="completion">75.0 %<' in text
    assert 'data-testid="completion-met">No<' in text
    # abandonment: 1 - 5 orders / 10 carts = 50.0 %, target below 30 %
    assert 'data-testid="abandonment">50.0 %<' in text
    assert 'data-testid="abandonment-met">No<' in text
    assert "Céleste Necklace" in text
    assert "above 95.0 %" in text
    assert "below 30.0 %" in text
    assert "style=" not in text


async def test_each_report_downloads_as_csv(
    client: AsyncClient, staff: Account, spring_sales: Account
) -> None:
    await sign_in_staff(client, staff)

    def rows(response_text: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(response_text)))

    by_day = await client.get(f"/admin/reports/sales-by-day.csv?{RANGE}")
    assert by_day.status_code == 200
    assert by_day.headers["content-type"].startswith("text/csv")
    assert "attachment" in by_day.headers["content-disposition"]
    assert rows(by_day.text) == [
        ["day", "orders_paid", "gross_gbp", "refunds_gbp", "net_gbp"],
        ["2026-03-28", "2", "3500.50", "0.00", "3500.50"],
        ["2026-03-29", "0", "0.00", "10.00", "-10.00"],
        ["2026-03-30", "1", "999.99", "200.00", "799.99"],
    ]
    by_collection = rows((await client.get(f"/admin/reports/sales-by-collection.csv?{RANGE}")).text)
    assert by_collection[1:] == [["celeste", "1", "2", "2400.50"], ["aurora", "3", "3", "2099.99"]]
    top = rows((await client.get(f"/admin/reports/top-products.csv?{RANGE}")).text)
    assert top[1:] == [
        ["celeste-necklace", "Céleste Necklace", "2", "2400.50"],
        ["aurora-ring", "Aurora Ring", "3", "2099.99"],
    ]
    funnel = rows((await client.get(f"/admin/reports/funnel.csv?{RANGE}")).text)
    assert funnel[1] == ["21", "10", "5", "1", "3", "47.6", "50.0", "50.0", "75.0"]
    assert (await client.get(f"/admin/reports/nothing.csv?{RANGE}")).status_code == 422
