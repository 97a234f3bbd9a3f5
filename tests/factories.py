"""Typed factory functions: accounts made through the public API or the service layer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import FastAPI
from httpx import AsyncClient

from elysium.accounts.service import create_user

DEFAULT_PASSWORD = "velvet-sapphire-2026"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "client") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def login(client: AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> str:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def register_customer(
    client: AsyncClient, email: str | None = None, password: str = DEFAULT_PASSWORD
) -> Account:
    """A customer registered and signed in through the API."""
    email = email or unique_email()
    response = await client.post(
        "/api/auth/register", json={"email": email, "password": password, "name": "Ada Client"}
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["user"]["id"]
    return Account(user_id, email.lower(), password, await login(client, email, password))


async def make_account(
    app: FastAPI, client: AsyncClient, role: str, email: str | None = None
) -> Account:
    """A staff or admin account created through the service layer, then signed in."""
    email = email or unique_email(role)
    async with app.state.sessionmaker() as session, session.begin():
        user = await create_user(session, email, DEFAULT_PASSWORD, f"{role.title()} Person", role)
    return Account(str(user.id), email, DEFAULT_PASSWORD, await login(client, email))


async def add_address(client: AsyncClient, account: Account, type_: str = "shipping") -> str:
    body = {
        "type": type_,
        "line1": "1 Bond Street",
        "city": "London",
        "postal_code": "W1S 1AA",
        "country": "GB",
    }
    response = await client.post("/api/user/addresses", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    address_id: str = response.json()["id"]
    return address_id
