"""Two-factor: password to enrol, a code accepted once, recovery codes, disabling, resets.

And the one staff rule: `/admin` pages refuse exactly what the staff API refuses.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass

import pyotp
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from admin_helpers import admin_sign_in
from elysium.app import create_app
from elysium.config import Settings
from elysium.models import AuditEvent, RecoveryCode
from factories import Account, make_account


@dataclass
class Enrolled:
    account: Account
    totp: pyotp.TOTP
    recovery_codes: list[str]


async def _enrol(client: AsyncClient, account: Account) -> Enrolled:
    setup = await client.post(
        "/api/auth/2fa/setup", json={"password": account.password}, headers=account.headers
    )
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])
    enabled = await client.post(
        "/api/auth/2fa/enable", json={"code": totp.now()}, headers=account.headers
    )
    assert enabled.status_code == 200, enabled.text
    return Enrolled(account, totp, enabled.json()["recovery_codes"])


async def _sign_in(client: AsyncClient, account: Account, code: str | None) -> int:
    body = {"email": account.email, "password": account.password, "totp_code": code}
    return (await client.post("/api/auth/login", json=body)).status_code


def _next_code(totp: pyotp.TOTP) -> str:
    """The next step's code: accepted (clock drift), and not the one enrolment used."""
    return totp.at(time.time() + 30)


async def test_enrolment_needs_the_password(client: AsyncClient, customer: Account) -> None:
    without = await client.post("/api/auth/2fa/setup", json={}, headers=customer.headers)
    assert without.status_code == 422
    wrong = await client.post(
        "/api/auth/2fa/setup", json={"password": "not-my-password"}, headers=customer.headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "password"
    session = await client.get("/api/auth/session", headers=customer.headers)
    assert session.json()["two_factor_enabled"] is False


async def test_a_code_signs_in_once(client: AsyncClient, customer: Account) -> None:
    enrolled = await _enrol(client, customer)
    code = _next_code(enrolled.totp)
    assert await _sign_in(client, customer, code) == 200
    assert await _sign_in(client, customer, code) == 401  # replayed: RFC 6238 5.2


async def test_a_code_raced_twice_signs_in_once(client: AsyncClient, customer: Account) -> None:
    enrolled = await _enrol(client, customer)
    code = _next_code(enrolled.totp)
    results = await asyncio.gather(*(_sign_in(client, customer, code) for _ in range(6)))
    assert sorted(results) == [200, 401, 401, 401, 401, 401]


async def test_the_enrolment_code_cannot_sign_in(client: AsyncClient, customer: Account) -> None:
    setup = await client.post(
        "/api/auth/2fa/setup", json={"password": customer.password}, headers=customer.headers
    )
    totp = pyotp.TOTP(setup.json()["secret"])
    code = totp.now()
    await client.post("/api/auth/2fa/enable", json={"code": code}, headers=customer.headers)
    assert await _sign_in(client, customer, code) == 401


async def test_recovery_codes_are_ten_hashed_and_single_use(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    enrolled = await _enrol(client, customer)
    assert len(set(enrolled.recovery_codes)) == 10
    async with app.state.sessionmaker() as session:
        stored = set(
            (
                await session.execute(
                    select(RecoveryCode.code_hash).where(RecoveryCode.user_id == customer.id)
                )
            ).scalars()
        )
    assert len(stored) == 10
    assert not stored & set(enrolled.recovery_codes)  # never stored in the clear
    first = enrolled.recovery_codes[0]
    assert await _sign_in(client, customer, first.upper()) == 200  # case and dash forgiven
    assert await _sign_in(client, customer, first) == 401
    assert await _sign_in(client, customer, "aaaaa-bbbbb") == 401


async def test_regenerating_codes_needs_password_and_code_and_voids_old_ones(
    client: AsyncClient, customer: Account
) -> None:
    enrolled = await _enrol(client, customer)
    url = "/api/auth/2fa/recovery-codes"
    wrong = await client.post(
        url,
        json={"password": "wrong-password", "code": _next_code(enrolled.totp)},
        headers=customer.headers,
    )
    assert wrong.status_code == 422
    fresh = await client.post(
        url,
        json={"password": customer.password, "code": enrolled.recovery_codes[0]},
        headers=customer.headers,
    )
    assert fresh.status_code == 200
    new_codes = fresh.json()["recovery_codes"]
    assert not set(new_codes) & set(enrolled.recovery_codes)
    assert await _sign_in(client, customer, enrolled.recovery_codes[1]) == 401
    assert await _sign_in(client, customer, new_codes[0]) == 200


async def test_disabling_needs_password_and_code_and_ends_other_sessions(
    client: AsyncClient, customer: Account
) -> None:
    enrolled = await _enrol(client, customer)
    other = await client.post(
        "/api/auth/login",
        json={
            "email": customer.email,
            "password": customer.password,
            "totp_code": _next_code(enrolled.totp),
        },
    )
    other_headers = {"Authorization": f"Bearer {other.json()['token']}"}
    no_code = await client.post(
        "/api/auth/2fa/disable",
        json={"password": customer.password, "code": "123456"},
        headers=customer.headers,
    )
    assert no_code.status_code == 422
    done = await client.post(
        "/api/auth/2fa/disable",
        json={"password": customer.password, "code": enrolled.recovery_codes[3]},
        headers=customer.headers,
    )
    assert done.status_code == 204
    assert (await client.get("/api/auth/session", headers=other_headers)).status_code == 401
    assert (await client.get("/api/auth/session", headers=customer.headers)).status_code == 200
    assert await _sign_in(client, customer, None) == 200


async def test_enabling_ends_other_sessions(client: AsyncClient, customer: Account) -> None:
    other = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    other_headers = {"Authorization": f"Bearer {other.json()['token']}"}
    await _enrol(client, customer)
    assert (await client.get("/api/auth/session", headers=other_headers)).status_code == 401


async def test_admin_resets_two_factor_audited(
    app: FastAPI, client: AsyncClient, customer: Account, admin: Account, staff: Account
) -> None:
    await _enrol(client, customer)
    url = f"/api/admin/users/{customer.id}/reset-2fa"
    assert (await client.post(url, headers=staff.headers)).status_code == 403
    assert (await client.post(url, headers=admin.headers)).status_code == 204
    assert (await client.get("/api/auth/session", headers=customer.headers)).status_code == 401
    assert await _sign_in(client, customer, None) == 200
    async with app.state.sessionmaker() as session:
        event = (
            await session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "user.totp_reset", AuditEvent.target_id == str(customer.id)
                )
            )
        ).scalar_one()
    assert str(event.actor_id) == admin.id


async def _elysium(settings: Settings, *args: str) -> tuple[int, str]:
    env = os.environ | {"DATABASE_URL": str(settings.database_url)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "elysium.cli", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    return process.returncode or 0, out.decode() + err.decode()


@pytest.mark.slow  # runs the real `elysium` command twice
async def test_reset_2fa_from_the_command_line(
    app: FastAPI, client: AsyncClient, customer: Account, settings: Settings
) -> None:
    await _enrol(client, customer)
    code, output = await _elysium(settings, "user", "reset-2fa", "--email", customer.email.upper())
    assert code == 0, output
    assert await _sign_in(client, customer, None) == 200
    code, output = await _elysium(settings, "user", "reset-2fa", "--email", "nobody@example.com")
    assert code == 1
    assert "no account" in output


@pytest.fixture
async def strict_app(app: FastAPI) -> FastAPI:
    return create_app(app.state.settings.model_copy(update={"staff_require_2fa": True}))


async def test_admin_pages_apply_the_api_staff_rule(strict_app: FastAPI) -> None:
    """A staff member without two-factor is refused the bespoke page as the API refuses it."""
    transport = ASGITransport(app=strict_app)
    async with (
        LifespanManager(strict_app),
        AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        staff = await make_account(strict_app, "staff")
        api = await http.get("/api/bespoke", headers=staff.headers)
        assert api.status_code == 403
        signed_in = await admin_sign_in(http, staff.email)
        assert signed_in.status_code == 303
        cookie = signed_in.headers["set-cookie"].lower()
        assert "path=/admin" in cookie
        assert "samesite=strict" in cookie
        assert "httponly" in cookie
        for path in ("/admin", "/admin/bespoke", "/admin/orders"):
            page = await http.get(path)
            assert page.status_code == 403, path
            assert "two-factor" in page.text
            assert "@" not in page.text.replace(staff.email, "")
