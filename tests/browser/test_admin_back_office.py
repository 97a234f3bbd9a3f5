"""The back office in a real browser: stock adjusted and its ledger row seen, a review approved,
the staff rule on every page, and no sideways scrolling on a tablet."""

from __future__ import annotations

from fastapi import FastAPI
from playwright.async_api import Page, expect

from admin_helpers import sign_in
from backoffice import PAGES
from factories import DEFAULT_PASSWORD, HALF_CARAT_KEY, create_product, make_account, stocked_piece


async def _staff(app: FastAPI, page: Page) -> None:
    staff = await make_account(app, "staff")
    await sign_in(page, staff.email, DEFAULT_PASSWORD)
    await expect(page.locator("header")).to_contain_text(staff.email)


async def test_staff_adjust_stock_and_see_the_ledger_row(app: FastAPI, page: Page) -> None:
    piece = await stocked_piece(app, 5)
    await _staff(app, page)
    await page.goto(f"/admin/inventory/{piece.slug}")
    await expect(page.get_by_test_id(f"available-{HALF_CARAT_KEY}")).to_have_text("5")

    form = page.locator("form").filter(has=page.get_by_test_id(f"stock-adjust-{HALF_CARAT_KEY}"))
    await form.locator("input[name=adjust]").fill("-2")
    await form.locator("input[name=reason]").fill("Sent to the workshop for polishing")
    await page.get_by_test_id(f"stock-adjust-{HALF_CARAT_KEY}").click()

    await expect(page.get_by_test_id(f"available-{HALF_CARAT_KEY}")).to_have_text("3")
    ledger = page.get_by_test_id(f"ledger-{HALF_CARAT_KEY}")
    newest = ledger.get_by_test_id("ledger-row").first
    await expect(newest).to_contain_text("Sent to the workshop for polishing")
    await expect(newest).to_contain_text("-2")
    await expect(newest).to_contain_text("Adjust")


async def test_staff_approve_a_review(app: FastAPI, page: Page) -> None:
    author = await make_account(app)
    piece = await create_product(app)
    response = await page.request.post(
        f"/api/products/{piece.slug}/reviews",
        data={"rating": 5, "title": "Breathtaking", "body": "It catches every light."},
        headers={"Authorization": f"Bearer {author.token}"},
    )
    assert response.status == 201, await response.text()
    review_id = (await response.json())["id"]
    await _staff(app, page)
    await page.goto("/admin/reviews")

    await page.get_by_test_id(f"review-approve-{review_id}").click()

    await expect(page.get_by_test_id(f"review-approve-{review_id}")).to_have_count(0)
    await page.goto("/admin/reviews?status=approved")
    await expect(page.get_by_test_id(f"review-{review_id}")).to_contain_text("Breathtaking")
    public = await page.request.get(f"/api/products/{piece.slug}/reviews")
    assert [r["id"] for r in (await public.json())["items"]] == [review_id]


async def test_customers_and_anonymous_visitors_are_refused_everywhere(
    app: FastAPI, page: Page
) -> None:
    for path in PAGES:
        await page.goto(path)
        await expect(page).to_have_url(f"{page.url.split('/admin')[0]}/admin/login")
    customer = await make_account(app)
    await sign_in(page, customer.email, DEFAULT_PASSWORD)
    await expect(page.locator("body")).to_contain_text("Staff only")
    base = page.url.split("/admin")[0]
    await page.context.add_cookies(
        [{"name": "elysium_session", "value": customer.token, "url": base}]
    )
    for path in PAGES:
        if path.endswith(".csv"):
            download = await page.request.get(path)
            assert download.status == 403, path
            continue
        shown = await page.goto(path)
        assert shown is not None
        assert shown.status == 403, path
        await expect(page.get_by_test_id("error-detail")).to_be_visible()


async def test_pages_fit_a_tablet_without_sideways_scrolling(app: FastAPI, page: Page) -> None:
    piece = await stocked_piece(app, 5)
    await page.set_viewport_size({"width": 820, "height": 1180})
    await _staff(app, page)
    for path in [p for p in PAGES if not p.endswith(".csv")] + [f"/admin/inventory/{piece.slug}"]:
        await page.goto(path)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} overflows by {overflow}px at 820px"
