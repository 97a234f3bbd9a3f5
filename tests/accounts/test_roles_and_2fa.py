"""Roles, staff-only routes, role changes and TOTP two-factor sign-in."""

from __future__ import annotations

import time

import pyotp
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from elysium.models import AuditEvent
from factories import Account, login, make_account


async def test_customer_cannot_change_roles(client: AsyncClient, customer: Account) -> None:
    response = await client.put(
        f"/api/admin/users/{customer.id}/role", json={"role": "admin"}, headers=customer.headers
    )
    assert response.status_code == 403


async def test_staff_is_not_admin(
    app: FastAPI, client: AsyncClient, customer: Account, staff: Account
) -> None:
    response = await client.put(
        f"/api/admin/users/{customer.id}/role", json={"role": "staff"}, headers=staff.headers
    )
    assert response.status_code == 403


async def test_admin_changes_role_audited_and_sessions_revoked(
    app: FastAPI, client: AsyncClient, customer: Account, admin: Account
) -> None:
    response = await client.put(
        f"/api/admin/users/{customer.id}/role", json={"role": "staff"}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["role"] == "staff"
    assert (await client.get("/api/auth/session", headers=customer.headers)).status_code == 401
    async with app.state.sessionmaker() as session:
        event = (
            await session.execute(
                select(AuditEvent).where(AuditEvent.action == "user.role_changed")
            )
        ).scalar_one()
    assert event.actor_id is not None
    assert str(event.actor_id) == admin.id
    assert event.details == {"from": "customer", "to": "staff"}


async def test_unknown_role_is_422(app: FastAPI, client: AsyncClient, admin: Account) -> None:
    response = await client.put(
        f"/api/admin/users/{admin.id}/role", json={"role": "owner"}, headers=admin.headers
    )
    assert response.status_code == 422


async def test_role_change_for_unknown_user_is_404(
    app: FastAPI, client: AsyncClient, admin: Account
) -> None:
    response = await client.put(
        "/api/admin/users/00000000-0000-4000-8000-000000000000/role",
        json={"role": "staff"},
        headers=admin.headers,
    )
    assert response.status_code == 404


async def test_totp_is_required_once_enabled(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    setup = await client.post(
        "/api/auth/2fa/setup", json={"password": staff.password}, headers=staff.headers
    )
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")
    wrong = await client.post(
        "/api/auth/2fa/enable", json={"code": "000000"}, headers=staff.headers
    )
    assert wrong.status_code == 422
    code = pyotp.TOTP(secret).now()
    enabled = await client.post("/api/auth/2fa/enable", json={"code": code}, headers=staff.headers)
    assert enabled.status_code == 200
    assert len(enabled.json()["recovery_codes"]) == 10

    without = await client.post(
        "/api/auth/login", json={"email": staff.email, "password": staff.password}
    )
    assert without.status_code == 401
    assert without.json()["totp_required"] is True
    with_code = await client.post(
        "/api/auth/login",
        json={
            "email": staff.email,
            "password": staff.password,
            # The enrolment used this step's code; the next step's is accepted for clock drift.
            "totp_code": pyotp.TOTP(secret).at(time.time() + 30),
        },
    )
    assert with_code.status_code == 200
    assert (await client.get("/api/auth/session", headers=staff.headers)).json()[
        "two_factor_enabled"
    ] is True


async def test_staff_routes_demand_2fa_when_configured(app: FastAPI, client: AsyncClient) -> None:
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport

    from elysium.app import create_app

    strict = create_app(app.state.settings.model_copy(update={"staff_require_2fa": True}))
    transport = ASGITransport(app=strict)
    client_of_strict = AsyncClient(transport=transport, base_url="http://t")
    async with LifespanManager(strict), client_of_strict as http:
        admin = await make_account(strict, "admin")
        customer = await make_account(strict)
        response = await http.put(
            f"/api/admin/users/{customer.id}/role",
            json={"role": "staff"},
            headers=admin.headers,
        )
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]


async def test_login_helper_token_is_usable(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    token = await login(client, staff.email)
    session = await client.get("/api/auth/session", headers={"Authorization": f"Bearer {token}"})
    assert session.json()["user"]["role"] == "staff"
