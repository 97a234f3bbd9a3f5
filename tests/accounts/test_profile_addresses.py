"""Profile and addresses: ownership, defaults, validation and audit."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from elysium.models import AuditEvent
from factories import LONDON_ADDRESS, Account, add_address, register_customer

ADDRESS = LONDON_ADDRESS | {"type": "shipping", "country": "gb"}  # normalised to GB


async def test_profile_round_trip(client: AsyncClient, customer: Account) -> None:
    update = {
        "name": "Ada Lovelace",
        "phone": "+44 20 7946 0000",
        "date_of_birth": "1990-12-10",
        "preferences": {"metal": "platinum"},
        "marketing_opt_in": True,
    }
    put = await client.put("/api/user/profile", json=update, headers=customer.headers)
    assert put.status_code == 200
    got = (await client.get("/api/user/profile", headers=customer.headers)).json()
    assert {k: got[k] for k in update} == update


def nested(levels: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": "gold"}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


async def test_deeply_nested_preferences_are_refused_and_the_export_still_works(
    client: AsyncClient, customer: Account
) -> None:
    deep = await client.put(
        "/api/user/profile", json={"preferences": nested(256)}, headers=customer.headers
    )
    assert deep.status_code == 422
    assert deep.json()["errors"][0]["field"] == "preferences"
    fine = await client.put(
        "/api/user/profile", json={"preferences": nested(8)}, headers=customer.headers
    )
    assert fine.status_code == 200
    export = await client.get("/api/user/export", headers=customer.headers)
    assert export.status_code == 200
    assert export.json()["account"]["preferences"] == nested(8)


async def test_profile_rejects_impossible_birth_date(
    client: AsyncClient, customer: Account
) -> None:
    response = await client.put(
        "/api/user/profile", json={"date_of_birth": "2999-01-01"}, headers=customer.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "date_of_birth"


async def test_first_address_becomes_default_and_country_is_normalised(
    client: AsyncClient, customer: Account
) -> None:
    response = await client.post("/api/user/addresses", json=ADDRESS, headers=customer.headers)
    assert response.status_code == 201
    body = response.json()
    assert body["is_default"] is True
    assert body["country"] == "GB"
    uuid.UUID(body["id"])


async def test_only_one_default_per_type(client: AsyncClient, customer: Account) -> None:
    first = await add_address(client, customer)
    second = await client.post(
        "/api/user/addresses", json=ADDRESS | {"is_default": True}, headers=customer.headers
    )
    listed = (await client.get("/api/user/addresses", headers=customer.headers)).json()
    defaults = {a["id"]: a["is_default"] for a in listed}
    assert defaults == {first: False, second.json()["id"]: True}


async def test_another_users_address_is_404(client: AsyncClient) -> None:
    owner = await register_customer(client)
    intruder = await register_customer(client)
    address_id = await add_address(client, owner)
    put = await client.put(
        f"/api/user/addresses/{address_id}", json=ADDRESS, headers=intruder.headers
    )
    delete = await client.delete(f"/api/user/addresses/{address_id}", headers=intruder.headers)
    assert put.status_code == delete.status_code == 404
    assert len((await client.get("/api/user/addresses", headers=owner.headers)).json()) == 1


async def test_update_and_delete_own_address(client: AsyncClient, customer: Account) -> None:
    address_id = await add_address(client, customer)
    put = await client.put(
        f"/api/user/addresses/{address_id}",
        json=ADDRESS | {"city": "Bath"},
        headers=customer.headers,
    )
    assert put.json()["city"] == "Bath"
    assert (
        await client.delete(f"/api/user/addresses/{address_id}", headers=customer.headers)
    ).status_code == 204
    assert (await client.get("/api/user/addresses", headers=customer.headers)).json() == []


async def test_invalid_address_fields_are_named(client: AsyncClient, customer: Account) -> None:
    bad = ADDRESS | {"country": "Britain", "type": "home", "line1": ""}
    response = await client.post("/api/user/addresses", json=bad, headers=customer.headers)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"country", "type", "line1"} <= fields


async def test_invalid_uuid_in_path_is_422(client: AsyncClient, customer: Account) -> None:
    response = await client.delete("/api/user/addresses/not-a-uuid", headers=customer.headers)
    assert response.status_code == 422


async def test_address_changes_are_audited(
    client: AsyncClient, app: FastAPI, customer: Account
) -> None:
    address_id = await add_address(client, customer)
    await client.delete(f"/api/user/addresses/{address_id}", headers=customer.headers)
    async with app.state.sessionmaker() as session:
        actions = (
            (
                await session.execute(
                    select(AuditEvent.action).where(AuditEvent.target_id == address_id)
                )
            )
            .scalars()
            .all()
        )
    assert sorted(actions) == ["address.created", "address.deleted"]
