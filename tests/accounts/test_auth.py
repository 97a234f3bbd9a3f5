"""Registration, sign-in, sessions, logout and the password policy, through HTTP."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import select

from elysium.models import AuditEvent
from factories import DEFAULT_PASSWORD, register_customer, unique_email


async def test_register_returns_the_user_as_customer(client: AsyncClient) -> None:
    email = unique_email()
    response = await client.post(
        "/api/auth/register", json={"email": email, "password": DEFAULT_PASSWORD, "name": "Ada"}
    )
    assert response.status_code == 201
    user = response.json()["user"]
    assert user["email"] == email
    assert user["name"] == "Ada"
    assert user["role"] == "customer"
    assert set(user) == {"id", "email", "name", "role", "email_verified"}
    assert user["email_verified"] is False


async def test_email_is_unique_ignoring_case(client: AsyncClient) -> None:
    email = unique_email()
    await register_customer(client, email)
    again = await client.post(
        "/api/auth/register", json={"email": email.upper(), "password": DEFAULT_PASSWORD}
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_short_password_is_refused(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register", json={"email": unique_email(), "password": "short9"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"


async def test_common_password_is_refused_even_when_long(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register", json={"email": unique_email(), "password": "1234567890"}
    )
    assert response.status_code == 422
    assert "common" in response.json()["errors"][0]["message"]


async def test_login_returns_bearer_token_and_secure_cookie(client: AsyncClient) -> None:
    account = await register_customer(client)
    response = await client.post(
        "/api/auth/login", json={"email": account.email.upper(), "password": account.password}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["email"] == account.email
    assert body["expires_at"].endswith(("Z", "+00:00"))
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


async def test_wrong_password_and_unknown_email_get_the_same_answer(client: AsyncClient) -> None:
    account = await register_customer(client)
    wrong = await client.post(
        "/api/auth/login", json={"email": account.email, "password": "not-the-password-1"}
    )
    unknown = await client.post(
        "/api/auth/login", json={"email": unique_email(), "password": "not-the-password-1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() | {"instance": wrong.json()["instance"]}
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_session_accepts_bearer_and_cookie(client: AsyncClient) -> None:
    account = await register_customer(client)
    by_header = await client.get("/api/auth/session", headers=account.headers)
    assert by_header.status_code == 200
    assert by_header.json()["user"]["id"] == account.id
    client.cookies.set("elysium_session", account.token)
    by_cookie = await client.get("/api/auth/session")
    client.cookies.clear()
    assert by_cookie.status_code == 200


async def test_session_without_token_is_401_problem(client: AsyncClient) -> None:
    response = await client.get("/api/auth/session")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail"} <= set(response.json())


async def test_logout_revokes_the_token_at_once(client: AsyncClient) -> None:
    account = await register_customer(client)
    assert (await client.post("/api/auth/logout", headers=account.headers)).status_code == 204
    assert (await client.get("/api/auth/session", headers=account.headers)).status_code == 401


async def test_a_forged_token_is_refused(client: AsyncClient) -> None:
    response = await client.get("/api/auth/session", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401


async def test_password_change_signs_out_other_sessions(client: AsyncClient) -> None:
    account = await register_customer(client)
    other = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    other_headers = {"Authorization": f"Bearer {other.json()['token']}"}
    change = await client.put(
        "/api/auth/password",
        json={"current_password": account.password, "new_password": "moonstone-garden-77"},
        headers=account.headers,
    )
    assert change.status_code == 204
    assert (await client.get("/api/auth/session", headers=other_headers)).status_code == 401
    assert (await client.get("/api/auth/session", headers=account.headers)).status_code == 200
    relogin = await client.post(
        "/api/auth/login", json={"email": account.email, "password": "moonstone-garden-77"}
    )
    assert relogin.status_code == 200


async def test_sign_ins_and_failures_are_audited(client: AsyncClient, app: object) -> None:
    account = await register_customer(client)
    await client.post(
        "/api/auth/login", json={"email": account.email, "password": "wrong-pass-123"}
    )
    async with app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = (await session.execute(select(AuditEvent))).scalars().all()
    actions = [row.action for row in rows]
    assert "auth.sign_in" in actions
    failed = [row for row in rows if row.action == "auth.sign_in_failed"]
    assert len(failed) == 1
    assert failed[0].ip == "203.0.113.10"
    assert failed[0].request_id
