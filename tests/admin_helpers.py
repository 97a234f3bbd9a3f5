"""Driving the /admin forms over HTTP: the CSRF token every POST needs."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from httpx import AsyncClient, Response
from playwright.async_api import Page

from factories import DEFAULT_PASSWORD, Account

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: AsyncClient, page: str = "/admin/login") -> str:
    """The token the forms of `page` carry (the page also sets this browser's CSRF cookie)."""
    found = _TOKEN.search((await client.get(page)).text)
    assert found is not None, f"no CSRF token on {page}"
    return found.group(1)


async def post_form(
    client: AsyncClient, path: str, fields: dict[str, str], *, token: str | None = None
) -> Response:
    """POST an /admin form as the browser would, with this client's CSRF token."""
    body = dict(fields, csrf_token=token if token is not None else await csrf_token(client))
    return await client.post(
        path,
        content=urlencode(body).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


async def sign_in_staff(client: AsyncClient, account: Account) -> None:
    """Sign `client` in to /admin as `account` (the staff cookie)."""
    response = await admin_sign_in(client, account.email)
    assert response.status_code == 303, response.text


async def admin_sign_in(
    client: AsyncClient, email: str, password: str = DEFAULT_PASSWORD, totp_code: str = ""
) -> Response:
    return await post_form(
        client, "/admin/login", {"email": email, "password": password, "totp_code": totp_code}
    )


async def sign_in(page: Page, email: str, password: str, totp_code: str | None = None) -> None:
    """Sign in through `/admin/login` as a person would."""
    await page.goto("/admin/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    if totp_code is not None:
        await page.fill("input[name=totp_code]", totp_code)
    await page.click("button[type=submit], form[action='/admin/login'] button")
