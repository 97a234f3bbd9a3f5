"""Hostile and malformed requests always get a 4xx problem+json and never a partial write."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, text

from elysium.models import User
from factories import DEFAULT_PASSWORD, Account, register_customer, unique_email


def _is_problem(response: object) -> bool:
    headers = response.headers  # type: ignore[attr-defined]
    return bool(headers["content-type"].startswith("application/problem+json"))


async def test_malformed_json_is_400(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert _is_problem(response)


@pytest.mark.parametrize(
    "body",
    [
        {"email": 42, "password": DEFAULT_PASSWORD},
        {"email": "not-an-email", "password": DEFAULT_PASSWORD},
        {"email": "a@example.com"},
        {"email": "a@example.com", "password": DEFAULT_PASSWORD, "role": "admin"},
        [1, 2, 3],
        "just a string",
    ],
)
async def test_wrong_shapes_are_422_with_fields(client: AsyncClient, body: object) -> None:
    response = await client.post("/api/auth/register", json=body)
    assert response.status_code == 422
    assert _is_problem(response)
    assert response.json()["errors"]


async def test_unknown_field_cannot_escalate_role(client: AsyncClient, app: FastAPI) -> None:
    email = unique_email()
    response = await client.post(
        "/api/auth/register",
        json={"email": email, "password": DEFAULT_PASSWORD, "role": "admin"},
    )
    assert response.status_code == 422
    async with app.state.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(User))
    assert count == 0


async def test_huge_body_is_413(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register",
        content=b'{"email": "' + b"a" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert _is_problem(response)


async def test_unknown_path_and_method_are_problems(client: AsyncClient) -> None:
    missing = await client.get("/api/nope")
    wrong_method = await client.delete("/api/auth/login")
    assert missing.status_code == 404
    assert wrong_method.status_code == 405
    assert _is_problem(missing)
    assert _is_problem(wrong_method)


async def test_hostile_strings_are_stored_verbatim_not_executed(
    client: AsyncClient, app: FastAPI, customer: Account
) -> None:
    hostile = "Robert'); DROP TABLE users;-- <script>alert(1)</script>"
    response = await client.put(
        "/api/user/profile", json={"name": hostile}, headers=customer.headers
    )
    assert response.status_code == 200
    assert response.json()["name"] == hostile
    async with app.state.sessionmaker() as session:
        assert await session.scalar(text("SELECT count(*) FROM users")) == 1


async def test_nul_byte_in_string_is_a_4xx_not_500(client: AsyncClient, customer: Account) -> None:
    response = await client.put(
        "/api/user/profile", json={"name": "Ada\u0000Lovelace"}, headers=customer.headers
    )
    assert 400 <= response.status_code < 500


async def test_request_id_is_echoed_or_generated(client: AsyncClient) -> None:
    echoed = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    generated = await client.get("/health/live")
    assert echoed.headers["x-request-id"] == "abc-123"
    assert len(generated.headers["x-request-id"]) == 32


async def test_audit_log_is_append_only(client: AsyncClient, app: FastAPI) -> None:
    await register_customer(client)
    async with app.state.engine.connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            await conn.execute(text("UPDATE audit_events SET action = 'forged'"))
