"""Staff pages under /admin: sign-in with the cookie, staff only, pages render real data."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from factories import DEFAULT_PASSWORD, make_account, register_customer


async def _sign_in(client: AsyncClient, email: str) -> int:
    response = await client.post(
        "/admin/login",
        content=f"email={email}&password={DEFAULT_PASSWORD}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    return response.status_code


async def test_pages_redirect_to_sign_in_when_signed_out(client: AsyncClient) -> None:
    for path in ("/admin", "/admin/orders", "/admin/inventory", "/admin/jobs"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login"
    assert (await client.get("/admin/login")).status_code == 200


async def test_staff_signs_in_and_sees_every_page(app: FastAPI, client: AsyncClient) -> None:
    staff = await make_account(app, client, "staff")
    assert await _sign_in(client, staff.email) == 303
    dashboard = await client.get("/admin")
    assert dashboard.status_code == 200
    assert "orders awaiting payment" in dashboard.text
    for section in ("orders", "inventory", "bespoke", "reviews", "jobs"):
        page = await client.get(f"/admin/{section}")
        assert page.status_code == 200, section
    assert (await client.get("/admin/nothing-here")).status_code == 404
    assert (await client.post("/admin/logout")).status_code == 303
    assert (await client.get("/admin")).status_code == 303


async def test_customers_and_wrong_passwords_are_refused(client: AsyncClient) -> None:
    customer = await register_customer(client)
    assert await _sign_in(client, customer.email) == 403
    wrong = await client.post(
        "/admin/login",
        content=f"email={customer.email}&password=nope-nope-nope".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert wrong.status_code == 401
    assert "incorrect" in wrong.text
    client.cookies.set("elysium_session", customer.token)
    assert (await client.get("/admin")).status_code == 303
    client.cookies.clear()
