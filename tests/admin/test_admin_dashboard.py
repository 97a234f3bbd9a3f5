"""The dashboard: net revenue to date, the server-drawn chart, the work waiting; and every page
of the back office refuses customers and anonymous visitors."""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import given
from hypothesis import strategies as st

from admin_helpers import post_form, sign_in_staff
from backoffice import ACTIONS, PAGES, insert_order, insert_refund
from elysium.admin.charts import AXIS, HEIGHT, bar_chart
from elysium.kit.clock import utcnow
from elysium.reports.schemas import DaySales
from elysium.reports.service import average_pence, revenue_to_date, summarise
from factories import HALF_CARAT_KEY, Account, make_account, stocked_piece


async def test_revenue_today_is_net_of_todays_refunds_and_ignores_old_sales(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    buyer = await make_account(app)
    now = utcnow()
    today = await insert_order(app, buyer, total_pence=123456, paid_at=now)
    await insert_refund(app, today, 23456, now)
    await insert_order(app, buyer, total_pence=999900, paid_at=now - timedelta(days=40))
    await insert_order(app, buyer, total_pence=5000, paid_at=None)  # awaiting payment
    await sign_in_staff(client, staff)

    page = await client.get("/admin")

    assert page.status_code == 200
    for period in ("today", "week", "month"):  # £1,234.56 - £234.56; the old sale is older
        assert f'data-testid="revenue-{period}">£1,000.00<' in page.text
    assert page.text.count('data-testid="chart-bar"') == 30
    assert "orders awaiting payment confirmation" in page.text
    assert "paid orders to fulfil" in page.text
    assert "Net revenue" in page.text
    assert "refunds" in page.text
    assert "style=" not in page.text  # the CSP forbids inline styles: SVG attributes only
    assert "<script" not in page.text
    for link in (
        "/admin/orders?status=PENDING",
        "/admin/orders?status=PAID",
        "/admin/inventory#low-stock",
        "/admin/bespoke?status=new",
        "/admin/consultations",
        "/admin/jobs",
    ):
        assert f'href="{link}"' in page.text


async def test_dashboard_counts_work_waiting(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    await stocked_piece(app, {HALF_CARAT_KEY: 0})
    await client.post(
        "/api/bespoke",
        json={
            "name": "Ada Client",
            "email": "ada@example.com",
            "piece_type": "ring",
            "notes": "A sapphire, please.",
        },
    )
    await sign_in_staff(client, staff)

    page = await client.get("/admin")

    assert re.search(r"<b>1</b>low-stock variants", page.text)
    assert re.search(r"<b>1</b>new bespoke enquiries", page.text)
    assert re.search(r"<b>0</b>failed jobs", page.text)


async def test_every_page_refuses_customers_and_anonymous_visitors(
    client: AsyncClient, customer: Account
) -> None:
    for path in PAGES:
        anonymous = await client.get(path)
        assert anonymous.status_code == 303, path
        assert anonymous.headers["location"] == "/admin/login"
    client.cookies.set("elysium_session", customer.token)
    for path in PAGES:
        assert (await client.get(path)).status_code == 403, path
    client.cookies.clear()


async def test_every_action_refuses_customers_and_anonymous_visitors(
    client: AsyncClient, customer: Account
) -> None:
    for path in ACTIONS:
        anonymous = await post_form(client, path, {"reason": "x"})
        assert anonymous.status_code == 303, path
        assert anonymous.headers["location"] == "/admin/login"
    client.cookies.set("elysium_session", customer.token)
    for path in ACTIONS:
        assert (await post_form(client, path, {"reason": "x"})).status_code == 403, path
        assert (await post_form(client, path, {}, token="forged")).status_code == 403, path
    client.cookies.clear()


async def test_every_page_renders_for_staff_with_a_strict_csp(
    client: AsyncClient, staff: Account
) -> None:
    await sign_in_staff(client, staff)
    for path in PAGES:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "style=" not in page.text, path
        assert ">None<" not in page.text, path


# --- the arithmetic, for any figures ---------------------------------------------------------

pence = st.integers(min_value=0, max_value=10**9)


@st.composite
def days_ending(draw: st.DrawFn) -> tuple[list[DaySales], date]:
    today = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)))
    count = draw(st.integers(min_value=1, max_value=62))
    days = [
        DaySales(today - timedelta(days=n), draw(st.integers(0, 50)), draw(pence), draw(pence))
        for n in range(count)
    ]
    return days, today


@given(days_ending())
def test_revenue_to_date_sums_the_right_days(case: tuple[list[DaySales], date]) -> None:
    days, today = case
    figures = revenue_to_date(days, today)
    monday, first = today - timedelta(days=today.weekday()), today.replace(day=1)
    assert figures["today"] == sum(d.gross_pence - d.refunds_pence for d in days if d.day == today)
    assert figures["week"] == sum(d.net_pence for d in days if d.day >= monday)
    assert figures["month"] == sum(d.net_pence for d in days if d.day >= first)


@given(days_ending())
def test_summary_is_consistent(case: tuple[list[DaySales], date]) -> None:
    days, _ = case
    summary = summarise(days)
    gross, refunds = sum(d.gross_pence for d in days), sum(d.refunds_pence for d in days)
    assert summary.gross.to_pence() == gross
    assert summary.net.to_pence() == gross - refunds
    assert summary.orders == sum(d.orders for d in days)
    if summary.orders:
        assert summary.average_order_value is not None
        # rounded half up: within half a penny of the exact average
        assert abs(2 * summary.average_order_value.to_pence() * summary.orders - 2 * gross) <= (
            summary.orders
        )
    else:
        assert summary.average_order_value is None


def test_average_rounds_half_up() -> None:
    assert average_pence(450049, 3) == 150016  # 150016.33
    assert average_pence(5, 2) == 3  # 2.5
    assert average_pence(7, 2) == 4  # 3.5
    assert average_pence(100, 0) is None


@given(st.lists(st.integers(min_value=-(10**8), max_value=10**9), min_size=1, max_size=60))
def test_chart_bars_fit_and_are_proportional(amounts: list[int]) -> None:
    start = date(2026, 11, 1)
    chart = bar_chart([(start + timedelta(days=n), a) for n, a in enumerate(amounts)])
    plot = HEIGHT - AXIS
    assert len(chart.bars) == len(amounts)
    for bar, amount in zip(chart.bars, amounts, strict=True):
        assert 0 <= bar.height <= plot
        assert abs(bar.y + bar.height - plot) < 0.02  # every bar stands on the axis
        if chart.peak_pence:
            assert abs(bar.height - plot * max(amount, 0) / chart.peak_pence) < 0.01
    if max(amounts) > 0:
        assert max(b.height for b in chart.bars) == plot
