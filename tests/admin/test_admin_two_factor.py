"""/admin/two-factor: enrol with a QR code drawn by the app, recovery codes once, sign-in step,
regenerate, disable; a staff member without it is sent there under STAFF_REQUIRE_2FA."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import AsyncIterator

import pyotp
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import AsyncClient

from admin_helpers import admin_sign_in, post_form
from back_office import audit_actions, staff_session
from elysium.app import create_app
from factories import Account, make_account


async def enrol(http: AsyncClient, account: Account) -> tuple[pyotp.TOTP, list[str]]:
    """Enrol through the pages; the TOTP read from the page and the recovery codes shown."""
    wrong = await post_form(http, "/admin/two-factor/setup", {"password": "not-my-password"})
    assert wrong.status_code == 422
    setup = await post_form(http, "/admin/two-factor/setup", {"password": account.password})
    assert setup.status_code == 200
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', setup.text)
    qr = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', setup.text)
    assert secret is not None
    assert qr is not None
    svg = base64.b64decode(qr.group(1)).decode()
    assert svg.startswith("<svg")
    totp = pyotp.TOTP(secret.group(1))
    enabled = await post_form(http, "/admin/two-factor/enable", {"code": totp.now()})
    assert enabled.status_code == 200
    codes = re.findall(r"<li><code>([^<]+)</code></li>", enabled.text)
    assert len(codes) == 10
    return totp, codes


def _next(totp: pyotp.TOTP) -> str:
    return totp.at(time.time() + 30)  # the replay guard refuses a step already used


async def test_enrol_then_sign_in_needs_the_second_step(app: FastAPI, staff: Account) -> None:
    async with staff_session(app, staff) as http:
        page = await http.get("/admin/two-factor")
        assert "totp-setup" in page.text
        totp, codes = await enrol(http, staff)
        assert "shown only now" not in (await http.get("/admin/two-factor")).text  # once
        assert ("user.totp_enabled", staff.id) in await audit_actions(app, staff.id)
        http.cookies.clear()
        first = await admin_sign_in(http, staff.email)
        assert first.status_code == 401
        assert 'data-testid="totp-step"' in first.text
        assert f'value="{staff.email}"' in first.text
        wrong = await admin_sign_in(http, staff.email, totp_code="000000")
        assert wrong.status_code == 401
        good = await admin_sign_in(http, staff.email, totp_code=_next(totp))
        assert good.status_code == 303
        assert (await http.get("/admin/orders")).status_code == 200
        http.cookies.clear()
        recovery = await admin_sign_in(http, staff.email, totp_code=codes[0])
        assert recovery.status_code == 303
        http.cookies.clear()
        reused = await admin_sign_in(http, staff.email, totp_code=codes[0])
        assert reused.status_code == 401


async def test_regenerate_codes_and_disable(app: FastAPI, staff: Account) -> None:
    async with staff_session(app, staff) as http:
        totp, old = await enrol(http, staff)
        fresh = await post_form(
            http,
            "/admin/two-factor/recovery-codes",
            {"password": staff.password, "code": _next(totp)},
        )
        assert fresh.status_code == 200
        new = re.findall(r"<li><code>([^<]+)</code></li>", fresh.text)
        assert len(new) == 10
        assert not set(new) & set(old)
        refused = await post_form(
            http, "/admin/two-factor/disable", {"password": "wrong-one", "code": new[0]}
        )
        assert refused.status_code == 422
        off = await post_form(
            http, "/admin/two-factor/disable", {"password": staff.password, "code": new[0]}
        )
        assert off.status_code == 303
        page = await http.get(off.headers["location"])
        assert "totp-setup" in page.text
        http.cookies.clear()
        assert (await admin_sign_in(http, staff.email)).status_code == 303


@pytest.fixture
async def strict_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app with STAFF_REQUIRE_2FA on (same database)."""
    strict = create_app(app.state.settings.model_copy(update={"staff_require_2fa": True}))
    async with LifespanManager(strict):
        yield strict


async def test_staff_without_two_factor_are_sent_to_enrol(strict_app: FastAPI) -> None:
    staff = await make_account(strict_app, "staff")
    async with staff_session(strict_app, staff) as http:
        for path in ("/admin", "/admin/orders", "/admin/customers"):
            refused = await http.get(path)
            assert refused.status_code == 403, path
            assert 'href="/admin/two-factor"' in refused.text
        assert (await http.get("/admin/two-factor")).status_code == 200
        await enrol(http, staff)
        assert (await http.get("/admin/orders")).status_code == 200


async def test_a_customer_cannot_use_the_enrolment_page(app: FastAPI, client: AsyncClient) -> None:
    customer = await make_account(app)
    client.cookies.set("elysium_session", customer.token)
    assert (await client.get("/admin/two-factor")).status_code == 403
    client.cookies.clear()
    signed_out = await client.get("/admin/two-factor")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/admin/login"
