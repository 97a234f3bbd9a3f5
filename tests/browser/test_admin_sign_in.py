"""Signing in to the back office in a real browser; the staff rule holds for every visitor."""

from __future__ import annotations

from fastapi import FastAPI
from playwright.async_api import Page, expect

from admin_helpers import sign_in
from factories import DEFAULT_PASSWORD, make_account


async def test_an_anonymous_visitor_is_sent_to_sign_in(page: Page) -> None:
    await page.goto("/admin/orders")
    await expect(page).to_have_url(f"{page.url.split('/admin')[0]}/admin/login")


async def test_staff_signs_in_and_a_customer_is_refused(app: FastAPI, page: Page) -> None:
    customer = await make_account(app)
    await sign_in(page, customer.email, DEFAULT_PASSWORD)
    await expect(page.locator("body")).to_contain_text("Staff only")
    staff = await make_account(app, "staff")
    await sign_in(page, staff.email, DEFAULT_PASSWORD)
    await expect(page.locator("header")).to_contain_text(staff.email)
