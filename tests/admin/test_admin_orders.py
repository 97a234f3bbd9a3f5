"""/admin/orders: search, filters, sort, pages, CSV; the order page and every action on it."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update

from admin_helpers import post_form
from back_office import audit_actions, ids_on_page, new_order, order_row
from elysium.admin import orders as order_pages
from elysium.kit.clock import london_today, utcnow
from elysium.models import Order, Refund
from factories import Account


async def _page(client: AsyncClient, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status_code == status, response.text
    return response.text


def _numbers(html: str) -> list[str]:
    rows = re.findall(
        r'data-testid="order-row">\s*<td><a href="/admin/orders/[^"]+">([^<]+)</a>', html
    )
    return rows


async def test_search_by_number_email_and_name_links_each_row(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient
) -> None:
    first = await new_order(app, client)
    second = await new_order(app, client)
    async with app.state.sessionmaker() as session, session.begin():
        from elysium.models import User

        await session.execute(
            update(User).where(User.email == second["customer"].email).values(name="Grace Hopper")
        )

    by_number = await _page(staff_client, f"/admin/orders?q={first['order_number']}")
    assert _numbers(by_number) == [first["order_number"]]
    assert f'href="/admin/orders/{first["id"]}"' in by_number
    by_email = await _page(staff_client, f"/admin/orders?q={second['customer'].email.upper()}")
    assert _numbers(by_email) == [second["order_number"]]
    by_name = await _page(staff_client, "/admin/orders?q=grace%20hop")
    assert _numbers(by_name) == [second["order_number"]]
    assert f'href="/admin/customers/{second["customer"].id}"' in by_name
    everything = await _page(staff_client, "/admin/orders")
    assert _numbers(everything) == [second["order_number"], first["order_number"]]
    nothing = await _page(staff_client, "/admin/orders?q=%25")  # a literal %, not a wildcard
    assert _numbers(nothing) == []


async def test_filters_by_status_payment_and_london_dates_and_sorts(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    old = await new_order(app, client)
    paid = await new_order(app, client)
    response = await client.put(
        f"/api/orders/{paid['id']}/status", json={"status": "PAID"}, headers=staff.headers
    )
    assert response.status_code == 200
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Order)
            .where(Order.id == old["id"])
            .values(created_at=utcnow() - timedelta(days=10), total_pence=Order.total_pence + 0)
        )
    assert _numbers(await _page(staff_client, "/admin/orders?status=PAID")) == [
        paid["order_number"]
    ]
    assert _numbers(await _page(staff_client, "/admin/orders?payment_status=unpaid")) == [
        old["order_number"]
    ]
    today = london_today().isoformat()  # the filter takes London days
    recent = await _page(staff_client, f"/admin/orders?from={today}&to={today}")
    assert _numbers(recent) == [paid["order_number"]]
    oldest_first = await _page(staff_client, "/admin/orders?sort=oldest")
    assert _numbers(oldest_first) == [old["order_number"], paid["order_number"]]
    inverted = await staff_client.get(f"/admin/orders?from={today}&to=2020-01-01")
    assert inverted.status_code == 422
    assert "after" in inverted.text
    unknown = await _page(staff_client, "/admin/orders?status=NOPE")  # ignored, not a 500
    assert len(_numbers(unknown)) == 2


async def test_pages_follow_the_cursor(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = [await new_order(app, client) for _ in range(3)]
    monkeypatch.setattr(order_pages, "PAGE_SIZE", 2)
    first = await _page(staff_client, "/admin/orders?sort=oldest")
    assert _numbers(first) == [o["order_number"] for o in orders[:2]]
    link = re.search(r'href="(/admin/orders\?[^"]*cursor=[^"]+)" data-testid="next-page"', first)
    assert link is not None
    second = await _page(staff_client, link.group(1).replace("&amp;", "&"))
    assert _numbers(second) == [orders[2]["order_number"]]
    assert 'data-testid="next-page"' not in second
    assert (await staff_client.get("/admin/orders?cursor=garbage")).status_code == 422


async def test_csv_export_holds_exactly_the_filtered_orders(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    kept = await new_order(app, client)
    other = await new_order(app, client)
    await client.put(
        f"/api/orders/{other['id']}/status", json={"status": "PAID"}, headers=staff.headers
    )
    page = await _page(staff_client, "/admin/orders?status=PENDING")
    assert 'href="/admin/orders/export.csv?status=PENDING"' in page
    response = await staff_client.get("/admin/orders/export.csv?status=PENDING")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["order_number"] for r in rows] == [kept["order_number"]]
    assert rows[0]["total"] == "2400.00"
    assert rows[0]["customer_email"] == kept["customer"].email
    assert rows[0]["status"] == "PENDING"


async def test_order_page_shows_the_order_and_only_the_allowed_actions(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient
) -> None:
    order = await new_order(app, client)
    html = await _page(staff_client, f"/admin/orders/{order['id']}")
    ids = ids_on_page(html)
    assert {"order-action-mark-paid", "order-action-cancel"} <= ids
    assert not ids & {"order-action-fulfil", "order-action-ship", "order-action-refund"}
    assert re.search(r'data-testid="order-status"[^>]*>Pending<', html)
    assert f'href="/admin/customers/{order["customer"].id}"' in html
    assert "1 Bond Street" in html
    assert "W1S 1AA" in html
    assert "Metal: platinum" in html
    assert "£2,400.00" in html
    assert "Bank transfer" in html  # the payment row
    assert "{" not in html.split("<main>")[1]  # no raw dicts or templates leaking


async def test_confirming_a_bank_transfer_uses_the_status_service_and_is_audited(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    order = await new_order(app, client)
    response = await post_form(
        staff_client, f"/admin/orders/{order['id']}/mark-paid", {"note": "Barclays ref 991"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/orders/{order['id']}?done=mark-paid"
    html = await _page(staff_client, response.headers["location"])
    assert "Payment confirmed" in html
    assert re.search(r'data-testid="order-status"[^>]*>Paid<', html)
    assert "Barclays ref 991" in html
    row = await order_row(app, order["id"])
    assert (row.status, row.payment_status) == ("PAID", "paid")
    assert ("order.status_changed", staff.id) in await audit_actions(app, order["id"])
    again = await post_form(staff_client, f"/admin/orders/{order['id']}/mark-paid", {})
    assert again.status_code == 409
    assert 'data-testid="action-error"' in again.text
    assert "409" in again.text


async def test_fulfil_ship_with_tracking_and_deliver(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient
) -> None:
    order = await new_order(app, client)
    path = f"/admin/orders/{order['id']}"
    early = await post_form(
        staff_client, f"{path}/ship", {"carrier": "DHL", "tracking_number": "JD0001"}
    )
    assert early.status_code == 409  # PENDING cannot ship
    assert (await order_row(app, order["id"])).tracking_number is None
    for action in ("mark-paid", "fulfil"):
        assert (await post_form(staff_client, f"{path}/{action}", {})).status_code == 303
    shipped = await post_form(
        staff_client,
        f"{path}/ship",
        {"carrier": "Royal Mail Special Delivery", "tracking_number": "AB123456789GB"},
    )
    assert shipped.status_code == 303
    row = await order_row(app, order["id"])
    assert (row.status, row.carrier, row.tracking_number) == (
        "SHIPPED",
        "Royal Mail Special Delivery",
        "AB123456789GB",
    )
    html = await _page(staff_client, path)
    assert "AB123456789GB" in html
    assert "order-action-deliver" in ids_on_page(html)
    assert (await post_form(staff_client, f"{path}/deliver", {})).status_code == 303
    assert (await order_row(app, order["id"])).status == "DELIVERED"


async def test_too_long_tracking_number_is_422_and_nothing_changes(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient
) -> None:
    order = await new_order(app, client)
    path = f"/admin/orders/{order['id']}"
    for action in ("mark-paid", "fulfil"):
        await post_form(staff_client, f"{path}/{action}", {})
    response = await post_form(
        staff_client, f"{path}/ship", {"carrier": "DHL", "tracking_number": "X" * 101}
    )
    assert response.status_code == 422
    assert "tracking_number" in response.text
    assert (await order_row(app, order["id"])).status == "FULFILLED"


async def test_cancel_asks_for_confirmation_first(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    order = await new_order(app, client)
    path = f"/admin/orders/{order['id']}/cancel"
    ask = await post_form(staff_client, path, {"reason": "Client changed their mind"})
    assert ask.status_code == 200
    assert 'data-testid="confirm"' in ask.text
    assert (await order_row(app, order["id"])).status == "PENDING"
    confirmed = await post_form(
        staff_client, path, {"reason": "Client changed their mind", "confirm": "yes"}
    )
    assert confirmed.status_code == 303
    row = await order_row(app, order["id"])
    assert row.status == "CANCELLED"
    assert ("order.cancelled", staff.id) in await audit_actions(app, order["id"])
    html = await _page(staff_client, f"/admin/orders/{order['id']}")
    assert "Client changed their mind" in html
    assert not ids_on_page(html) & {"order-action-cancel", "order-action-mark-paid"}


async def _refunds(app: FastAPI, order_id: str) -> list[int]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(select(Refund.amount_pence).where(Refund.order_id == order_id))
        return sorted(rows)


async def test_admin_refunds_part_after_confirmation_once_per_confirmation(
    app: FastAPI, client: AsyncClient, admin_client: AsyncClient, admin: Account
) -> None:
    order = await new_order(app, client)
    base = f"/admin/orders/{order['id']}"
    assert "order-action-refund" not in ids_on_page(await _page(admin_client, base))  # unpaid
    await post_form(admin_client, f"{base}/mark-paid", {})
    assert "order-action-refund" in ids_on_page(await _page(admin_client, base))

    ask = await post_form(
        admin_client, f"{base}/refund", {"amount": "£1,200", "reason": "Stone swapped"}
    )
    assert ask.status_code == 200
    assert 'data-testid="confirm"' in ask.text
    assert "£1,200.00" in ask.text
    assert await _refunds(app, order["id"]) == []
    key = re.search(r'name="idempotency_key" value="([^"]+)"', ask.text)
    assert key is not None
    fields = {
        "amount": "1200.00",
        "reason": "Stone swapped",
        "idempotency_key": key.group(1),
        "confirm": "yes",
    }
    done = await post_form(admin_client, f"{base}/refund", fields)
    assert done.status_code == 303, done.text
    again = await post_form(admin_client, f"{base}/refund", fields)  # a double submit
    assert again.status_code == 303
    assert await _refunds(app, order["id"]) == [120000]
    row = await order_row(app, order["id"])
    assert row.payment_status == "partially_refunded"
    assert ("order.refund_requested", admin.id) in await audit_actions(app, order["id"])
    html = await _page(admin_client, base)
    assert 'data-testid="refund-row"' in html
    assert "Stone swapped" in html

    too_much = await post_form(
        admin_client,
        f"{base}/refund",
        fields | {"amount": "5000.00", "idempotency_key": "admin-refund-too-much"},
    )
    assert too_much.status_code == 409
    assert await _refunds(app, order["id"]) == [120000]
    junk = await post_form(admin_client, f"{base}/refund", {"amount": "lots", "reason": "x"})
    assert junk.status_code == 422


async def test_staff_see_no_refund_button_and_cannot_post_one(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient
) -> None:
    order = await new_order(app, client)
    base = f"/admin/orders/{order['id']}"
    await post_form(staff_client, f"{base}/mark-paid", {})
    assert "order-action-refund" not in ids_on_page(await _page(staff_client, base))
    fields = {"amount": "10.00", "reason": "x", "idempotency_key": "k" * 20, "confirm": "yes"}
    refused = await post_form(staff_client, f"{base}/refund", fields)
    assert refused.status_code == 403
    assert await _refunds(app, order["id"]) == []


async def test_notes_are_added_audited_and_shown_newest_first(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    order = await new_order(app, client)
    base = f"/admin/orders/{order['id']}"
    for body in ("Engraving checked", "Client collects Friday"):
        assert (await post_form(staff_client, f"{base}/notes", {"body": body})).status_code == 303
    html = await _page(staff_client, f"{base}?done=note")
    assert "Note added." in html
    assert html.index("Client collects Friday") < html.index("Engraving checked")
    assert html.count('data-testid="note"') == 2
    assert staff.email in html
    actions = await audit_actions(app, order["id"])
    assert actions.count(("order.note_added", staff.id)) == 2
    empty = await post_form(staff_client, f"{base}/notes", {"body": "   "})
    assert empty.status_code == 422
    assert (await staff_client.get(f"{base}")).text.count('data-testid="note"') == 2
    missing = await post_form(
        staff_client, "/admin/orders/00000000-0000-0000-0000-000000000000/notes", {"body": "x"}
    )
    assert missing.status_code == 404


async def test_packing_slip_lists_pieces_without_prices(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient
) -> None:
    order = await new_order(app, client)
    html = await _page(staff_client, f"/admin/orders/{order['id']}/packing-slip")
    assert order["order_number"] in html
    assert "1 Bond Street" in html
    assert order["items"][0]["title"] in html
    main = html.split("<main>")[1]
    assert "£" not in main
    assert "2400" not in main


async def test_a_post_without_csrf_token_changes_nothing(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient
) -> None:
    order = await new_order(app, client)
    response = await staff_client.post(
        f"/admin/orders/{order['id']}/mark-paid",
        content=b"note=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403
    assert (await order_row(app, order["id"])).status == "PENDING"
    async with app.state.sessionmaker() as session:
        count = await session.scalar(select(func.count(Refund.id)))
    assert count == 0


async def test_csv_cells_are_never_spreadsheet_formulas(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient
) -> None:
    order = await new_order(app, client)
    async with app.state.sessionmaker() as session, session.begin():
        from elysium.models import User

        await session.execute(
            update(User)
            .where(User.email == order["customer"].email)
            .values(name='=HYPERLINK("http://evil.example","x")')
        )
    response = await staff_client.get("/admin/orders/export.csv")
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["customer_name"] == '\'=HYPERLINK("http://evil.example","x")'
