"""The back office in a real browser: two-factor sign-in, order actions, refunds, suspension,
CSRF, and every /admin URL refused to customers and anonymous visitors."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
from fastapi import FastAPI
from httpx import AsyncClient
from playwright.async_api import Page, expect

from admin_helpers import sign_in
from back_office import new_order, order_row
from browser.admin_urls import ADMIN_GET_URLS, ADMIN_POST_URLS
from factories import DEFAULT_PASSWORD, Account, make_account


async def _open_order(page: Page, order: dict[str, Any]) -> None:
    """Find the order by its number in the list and open it, as staff would."""
    await page.goto(f"/admin/orders?q={order['order_number']}")
    row = page.get_by_test_id("order-row")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(order["order_number"])
    await row.get_by_role("link", name=order["order_number"]).click()
    await expect(page).to_have_url(re.compile(f"/admin/orders/{order['id']}$"))


async def _status_is(page: Page, label: str) -> None:
    await expect(page.get_by_test_id("order-status")).to_have_text(label)


async def test_staff_enrol_two_factor_then_sign_in_with_a_code(app: FastAPI, page: Page) -> None:
    staff = await make_account(app, "staff")
    await sign_in(page, staff.email, DEFAULT_PASSWORD)  # without two-factor
    await expect(page.locator("header")).to_contain_text(staff.email)

    await page.get_by_role("link", name="Two-factor").click()
    await page.fill("input[name=password]", DEFAULT_PASSWORD)
    await page.get_by_test_id("totp-setup").click()
    await expect(page.get_by_test_id("totp-qr")).to_be_visible()
    secret = (await page.get_by_test_id("totp-secret").inner_text()).strip()
    totp = pyotp.TOTP(secret)
    await page.fill("input[name=code]", totp.now())
    await page.get_by_test_id("totp-enable").click()
    await expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile("/admin/login$"))
    await sign_in(page, staff.email, DEFAULT_PASSWORD)  # no code: the second step is asked for
    await expect(page.get_by_test_id("totp-step")).to_be_visible()
    await expect(page.locator("header")).to_have_count(0)
    await sign_in(page, staff.email, DEFAULT_PASSWORD, totp.at(time.time() + 30))
    await expect(page.locator("header")).to_contain_text(staff.email)


async def test_staff_confirm_a_bank_transfer(app: FastAPI, client: AsyncClient, page: Page) -> None:
    order = await new_order(app, client)
    staff = await make_account(app, "staff")
    await sign_in(page, staff.email, DEFAULT_PASSWORD)
    await _open_order(page, order)
    await _status_is(page, "Pending")
    await expect(page.get_by_test_id("order-action-fulfil")).to_have_count(0)
    await page.get_by_test_id("order-action-mark-paid").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Payment confirmed")
    await _status_is(page, "Paid")
    assert (await order_row(app, order["id"])).payment_status == "paid"


async def test_staff_ship_with_tracking(
    app: FastAPI, client: AsyncClient, page: Page, staff: Account
) -> None:
    order = await new_order(app, client)
    for status in ("PAID", "FULFILLED"):
        response = await client.put(
            f"/api/orders/{order['id']}/status", json={"status": status}, headers=staff.headers
        )
        assert response.status_code == 200
    await sign_in(page, staff.email, DEFAULT_PASSWORD)
    await _open_order(page, order)
    await page.fill("input[name=carrier]", "Royal Mail Special Delivery")
    await page.fill("input[name=tracking_number]", "AB123456789GB")
    await page.get_by_test_id("order-action-ship").click()
    await _status_is(page, "Shipped")
    await expect(page.get_by_test_id("tracking-number")).to_have_text("AB123456789GB")
    row = await order_row(app, order["id"])
    assert (row.carrier, row.tracking_number) == ("Royal Mail Special Delivery", "AB123456789GB")


async def test_admin_refunds_with_confirmation_and_staff_see_no_refund_button(
    app: FastAPI, client: AsyncClient, page: Page, staff: Account
) -> None:
    order = await new_order(app, client)
    response = await client.put(
        f"/api/orders/{order['id']}/status", json={"status": "PAID"}, headers=staff.headers
    )
    assert response.status_code == 200
    await sign_in(page, staff.email, DEFAULT_PASSWORD)
    await _open_order(page, order)
    await expect(page.get_by_test_id("order-action-fulfil")).to_be_visible()
    await expect(page.get_by_test_id("order-action-refund")).to_have_count(0)

    admin = await make_account(app, "admin")
    await page.context.clear_cookies()
    await sign_in(page, admin.email, DEFAULT_PASSWORD)
    await _open_order(page, order)
    refund_form = page.locator("form[action$='/refund']")
    await refund_form.locator("input[name=amount]").fill("400.00")
    await refund_form.locator("input[name=reason]").fill("Resized at the client's request")
    await page.get_by_test_id("order-action-refund").click()
    await expect(page.get_by_test_id("refund-amount")).to_have_text("£400.00")
    assert (await order_row(app, order["id"])).payment_status == "paid"  # not yet
    await page.get_by_test_id("confirm").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Refund issued")
    await expect(page.get_by_test_id("refund-row")).to_contain_text("£400.00")
    assert (await order_row(app, order["id"])).payment_status == "partially_refunded"


async def test_a_suspended_customer_cannot_sign_in(app: FastAPI, page: Page) -> None:
    customer = await make_account(app, name="Suspended Client")
    staff = await make_account(app, "staff")
    login = {"email": customer.email, "password": DEFAULT_PASSWORD}
    before = await page.request.post("/api/auth/login", data=login)
    assert before.status == 200
    await page.context.clear_cookies()
    await sign_in(page, staff.email, DEFAULT_PASSWORD)
    await page.goto("/admin/customers?q=Suspended")
    await page.get_by_test_id("customer-row").get_by_role("link", name=customer.email).click()
    await page.get_by_test_id("customer-suspend").click()
    await expect(page.get_by_test_id("customer-state")).to_have_text("Suspended")
    await expect(page.get_by_test_id("customer-reactivate")).to_be_visible()
    after = await page.request.post("/api/auth/login", data=login)
    assert after.status == 403
    still = await page.request.get(
        "/api/auth/session", headers={"Authorization": f"Bearer {customer.token}"}
    )
    assert still.status == 401  # the session made before the suspension has ended


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    app: FastAPI, client: AsyncClient, page: Page
) -> None:
    order = await new_order(app, client)
    staff = await make_account(app, "staff")
    await sign_in(page, staff.email, DEFAULT_PASSWORD)
    await _open_order(page, order)
    forged = await page.request.post(
        f"/admin/orders/{order['id']}/mark-paid", form={"note": "forged"}, max_redirects=0
    )
    assert forged.status == 403
    assert (await order_row(app, order["id"])).status == "PENDING"
    await page.reload()
    await _status_is(page, "Pending")


def _csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def _urls(app: FastAPI, client: AsyncClient) -> tuple[list[str], list[str]]:
    order = await new_order(app, client)
    ids = {"order_id": order["id"], "customer_id": order["customer"].id}
    return [u.format(**ids) for u in ADMIN_GET_URLS], [u.format(**ids) for u in ADMIN_POST_URLS]


async def test_anonymous_visitors_are_sent_to_sign_in_from_every_admin_url(
    app: FastAPI, client: AsyncClient, page: Page
) -> None:
    gets, posts = await _urls(app, client)
    for url in gets:
        response = await page.request.get(url, max_redirects=0)
        assert response.status == 303, url
        assert response.headers["location"] == "/admin/login", url
        if not url.endswith(".csv"):
            await page.goto(url)
            await expect(page).to_have_url(re.compile("/admin/login$"))
    await page.goto("/admin/login")
    token = _csrf_token(await page.content())
    for url in posts:
        response = await page.request.post(url, form={"csrf_token": token}, max_redirects=0)
        assert response.status == 303, url
        assert response.headers["location"] == "/admin/login", url


async def test_a_customer_is_refused_on_every_admin_url(
    app: FastAPI, client: AsyncClient, page: Page
) -> None:
    gets, posts = await _urls(app, client)
    customer = await make_account(app)
    login = {"email": customer.email, "password": DEFAULT_PASSWORD}
    assert (await page.request.post("/api/auth/login", data=login)).status == 200
    for url in gets:
        response = await page.request.get(url, max_redirects=0)
        assert response.status == 403, url
        if not url.endswith(".csv"):
            shown = await page.goto(url)
            assert shown is not None
            assert shown.status == 403, url
            await expect(page.get_by_test_id("error-detail")).to_contain_text("staff only")
    await page.goto("/admin/login")
    token = _csrf_token(await page.content())
    for url in posts:
        response = await page.request.post(url, form={"csrf_token": token}, max_redirects=0)
        assert response.status == 403, url
    order = await order_row(app, gets[3].rsplit("/", 1)[1])
    assert order.status == "PENDING"


async def test_pages_do_not_overflow_on_a_tablet(
    app: FastAPI, client: AsyncClient, page: Page
) -> None:
    order = await new_order(app, client)
    admin = await make_account(app, "admin")
    await page.set_viewport_size({"width": 820, "height": 1180})
    await sign_in(page, admin.email, DEFAULT_PASSWORD)
    for path in (
        "/admin/orders",
        f"/admin/orders/{order['id']}",
        f"/admin/customers/{order['customer'].id}",
        "/admin/customers",
        "/admin/two-factor",
    ):
        await page.goto(path)
        widths = await page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], (path, widths)
