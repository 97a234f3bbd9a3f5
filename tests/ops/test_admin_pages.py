"""Staff pages under /admin: sign-in with the cookie, staff only, pages render real data."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from admin_helpers import admin_sign_in, post_form
from factories import Account


async def _sign_in(client: AsyncClient, email: str) -> int:
    return (await admin_sign_in(client, email)).status_code


async def test_pages_redirect_to_sign_in_when_signed_out(client: AsyncClient) -> None:
    for path in (
        "/admin",
        "/admin/orders",
        "/admin/inventory",
        "/admin/consultations",
        "/admin/jobs",
    ):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login"
    assert (await client.get("/admin/login")).status_code == 200


async def test_staff_signs_in_and_sees_every_page(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    assert await _sign_in(client, staff.email) == 303
    dashboard = await client.get("/admin")
    assert dashboard.status_code == 200
    assert "orders awaiting payment" in dashboard.text
    for section in ("orders", "inventory", "bespoke", "reviews", "consultations", "jobs"):
        page = await client.get(f"/admin/{section}")
        assert page.status_code == 200, section
    assert (await client.get("/admin/nothing-here")).status_code == 404
    assert (await post_form(client, "/admin/logout", {})).status_code == 303
    assert (await client.get("/admin")).status_code == 303


async def test_customers_and_wrong_passwords_are_refused(
    client: AsyncClient, customer: Account
) -> None:
    assert await _sign_in(client, customer.email) == 403
    wrong = await admin_sign_in(client, customer.email, "nope-nope-nope")
    assert wrong.status_code == 401
    assert "incorrect" in wrong.text
    client.cookies.set("elysium_session", customer.token)
    assert (
        await client.get("/admin")
    ).status_code == 403  # signed in, not staff: as the API answers
    client.cookies.clear()


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: AsyncClient, staff: Account
) -> None:
    assert await _sign_in(client, staff.email) == 303
    missing = await client.post(
        "/admin/logout", content=b"", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert missing.status_code == 403
    forged = await post_form(client, "/admin/logout", {}, token="0" * 64)
    assert forged.status_code == 403
    assert (await client.get("/admin")).status_code == 200  # still signed in
    login_without = await client.post(
        "/admin/login",
        content=f"email={staff.email}&password=x".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert login_without.status_code == 403


async def test_admin_pages_carry_a_strict_csp_and_no_inline_code(
    client: AsyncClient, staff: Account
) -> None:
    assert await _sign_in(client, staff.email) == 303
    for path in ("/admin/login", "/admin", "/admin/orders"):
        page = await client.get(path)
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text
        assert "<style" not in page.text
        assert "style=" not in page.text
    css = await client.get("/admin/static/admin.css")
    assert css.status_code == 200
    assert "--gold" in css.text
