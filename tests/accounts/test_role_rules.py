"""Only an admin grants or removes staff and admin; nobody removes the last admin (through
PUT /api/admin/users/{id}/role, concurrently too)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient, Response

from factories import Account, make_account


async def set_role(client: AsyncClient, who: Account, target: Account, role: str) -> Response:
    return await client.put(
        f"/api/admin/users/{target.id}/role", json={"role": role}, headers=who.headers
    )


async def role_of(client: AsyncClient, account: Account) -> str:
    response = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200, response.text
    role: str = response.json()["user"]["role"]
    return role


async def test_staff_neither_grant_nor_remove_staff_or_admin(
    app: FastAPI, client: AsyncClient, staff: Account, admin: Account
) -> None:
    colleague = await make_account(app, "staff")
    customer = await make_account(app)
    attempts = [
        (staff, staff, "admin"),  # promoting oneself
        (staff, customer, "staff"),  # granting staff
        (staff, colleague, "customer"),  # removing a colleague
        (staff, admin, "customer"),  # removing an admin
        (customer, customer, "admin"),
    ]
    for actor, target, role in attempts:
        response = await set_role(client, actor, target, role)
        assert response.status_code == 403, (actor.email, target.email, role)
    assert [await role_of(client, a) for a in (staff, colleague, customer, admin)] == [
        "staff",
        "staff",
        "customer",
        "admin",
    ]


async def test_an_admin_grants_and_removes_staff_and_admin(
    app: FastAPI, client: AsyncClient, admin: Account
) -> None:
    customer = await make_account(app)
    assert (await set_role(client, admin, customer, "staff")).json()["role"] == "staff"
    assert (await set_role(client, admin, customer, "admin")).json()["role"] == "admin"
    # two admins now: either may step down or be removed
    assert (await set_role(client, admin, customer, "customer")).json()["role"] == "customer"


async def test_nobody_removes_the_last_admin_not_even_themselves(
    client: AsyncClient, admin: Account
) -> None:
    for role in ("staff", "customer"):
        response = await set_role(client, admin, admin, role)
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
    assert await role_of(client, admin) == "admin"


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    app: FastAPI, client: AsyncClient
) -> None:
    first, second = await make_account(app, "admin"), await make_account(app, "admin")
    answers = await asyncio.gather(
        set_role(client, first, second, "customer"), set_role(client, second, first, "customer")
    )
    codes = sorted(r.status_code for r in answers)
    # one demotion wins; the loser is refused (409: last admin, or 401: its session was
    # revoked by the winner's demotion before it was read)
    assert codes[0] == 200
    assert codes[1] in (401, 403, 409)
    roles = [await role_of(client, a) for a in (first, second)]
    assert sorted(roles) == ["admin", "customer"]
