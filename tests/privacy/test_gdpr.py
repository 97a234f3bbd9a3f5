"""GDPR export and erasure through HTTP."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update

from elysium.kit.clock import utcnow
from elysium.models import Address, AuditEvent, BespokeEnquiry, Order, OrderReturn, SentEmail, User
from elysium.privacy.service import EXPORTERS
from factories import (
    Account,
    add_address,
    checkout,
    make_account,
    placed_order,
    shopper,
    stocked_piece,
    unique_email,
)


async def test_export_contains_every_section(client: AsyncClient, customer: Account) -> None:
    await add_address(client, customer)
    response = await client.get("/api/user/export", headers=customer.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(EXPORTERS) <= set(body)
    assert body["account"]["email"] == customer.email
    assert body["addresses"][0]["line1"] == "1 Bond Street"
    assert any(event["action"] == "auth.sign_in" for event in body["audit_events"])


async def test_export_needs_sign_in(client: AsyncClient) -> None:
    assert (await client.get("/api/user/export")).status_code == 401


async def test_erasure_anonymises_and_signs_out(
    client: AsyncClient, app: FastAPI, customer: Account
) -> None:
    await add_address(client, customer)
    response = await client.delete("/api/user", headers=customer.headers)
    assert response.status_code == 204
    assert (await client.get("/api/auth/session", headers=customer.headers)).status_code == 401
    login = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    assert login.status_code == 401
    async with app.state.sessionmaker() as session:
        user = await session.get(User, uuid.UUID(customer.id))
        addresses = await session.scalar(select(func.count()).select_from(Address))
    assert user is not None
    assert user.email.endswith("@erased.invalid")
    assert user.name is None
    assert user.deleted_at is not None
    assert addresses == 0


async def test_the_email_can_register_again_after_erasure(
    client: AsyncClient, customer: Account
) -> None:
    await client.delete("/api/user", headers=customer.headers)
    again = await client.post(
        "/api/auth/register", json={"email": customer.email, "password": customer.password}
    )
    assert again.status_code == 201


async def test_erasure_keeps_orders_without_the_person(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app, level=2)
    who = await shopper(app, client, product)
    order = await placed_order(client, who)
    export = (await client.get("/api/user/export", headers=who.headers)).json()
    assert [o["order_number"] for o in export["orders"]] == [order["order_number"]]
    assert export["orders"][0]["items"][0]["product_slug"] == product.slug

    # the sent-email log is matched by address, so only once the client has verified it
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id == uuid.UUID(who.account.id))
            .values(email_verified_at=utcnow())
        )
    assert (await client.delete("/api/user", headers=who.headers)).status_code == 204
    async with app.state.sessionmaker() as session:
        kept = await session.get(Order, uuid.UUID(order["id"]))
    assert kept is not None
    assert kept.total_pence > 0
    assert kept.shipping_address == {"country": "GB", "erased": True}
    assert kept.billing_address == {"country": "GB", "erased": True}


async def test_export_and_erasure_cover_gift_messages_and_returns(
    app: FastAPI, client: AsyncClient
) -> None:
    staff = await make_account(app, "staff")
    product = await stocked_piece(app, level=2)
    who = await shopper(app, client, product)
    response = await checkout(client, who, gift_message="For Grace, with love")
    order = response.json()["order"]
    for target in ("PAID", "FULFILLED", "SHIPPED", "DELIVERED"):
        await client.put(
            f"/api/orders/{order['id']}/status", json={"status": target}, headers=staff.headers
        )
    line = {"order_item_id": order["items"][0]["id"], "quantity": 1}
    body = {"lines": [line], "reason": "My partner Grace prefers gold"}
    made = await client.post(f"/api/orders/{order['id']}/returns", json=body, headers=who.headers)
    assert made.status_code == 201, made.text
    export = (await client.get("/api/user/export", headers=who.headers)).json()
    [exported] = export["orders"]
    assert exported["gift_message"] == "For Grace, with love"
    assert exported["invoice_number"].startswith("INV-")
    assert exported["returns"][0]["reason"] == "My partner Grace prefers gold"
    assert exported["returns"][0]["lines"][0]["quantity"] == 1

    # the sent-email log is matched by address, so only once the client has verified it
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id == uuid.UUID(who.account.id))
            .values(email_verified_at=utcnow())
        )
    assert (await client.delete("/api/user", headers=who.headers)).status_code == 204
    async with app.state.sessionmaker() as session:
        kept = await session.get(Order, uuid.UUID(order["id"]))
        reasons = list(await session.scalars(select(OrderReturn.reason)))
        attachments = list(
            await session.scalars(
                select(SentEmail.attachments).where(SentEmail.template == "order_confirmation")
            )
        )
    assert kept is not None
    assert (kept.gift_message, kept.invoice_number) == (None, exported["invoice_number"])
    assert reasons == ["[erased]"]
    assert attachments == [None]


async def _guest_enquiry(client: AsyncClient, email: str) -> None:
    enquiry = {
        "name": "Victim Person",
        "email": email,
        "phone": "+44 20 7946 0001",
        "piece_type": "necklace",
        "notes": "A private commission; budget discussed by phone.",
    }
    assert (await client.post("/api/bespoke", json=enquiry)).status_code == 201


async def _enquiries_and_emails(app: FastAPI, email: str) -> tuple[int, int]:
    async with app.state.sessionmaker() as session:
        enquiries = await session.scalar(select(func.count()).where(BespokeEnquiry.email == email))
        emails = await session.scalar(select(func.count()).where(SentEmail.to == email))
    return enquiries or 0, emails or 0


async def test_an_unverified_email_neither_exports_nor_erases_another_persons_data(
    app: FastAPI, client: AsyncClient
) -> None:
    victim = unique_email("victim")
    await _guest_enquiry(client, victim)
    impostor = await make_account(app, email=victim)  # registered, never verified

    export = (await client.get("/api/user/export", headers=impostor.headers)).json()
    assert export["bespoke_enquiries"] == []
    assert export["emails"] == []
    assert (await client.delete("/api/user", headers=impostor.headers)).status_code == 204
    assert await _enquiries_and_emails(app, victim) == (1, 1)


async def test_a_verified_email_brings_the_guest_enquiries_made_with_it(
    app: FastAPI, client: AsyncClient
) -> None:
    email = unique_email("owner")
    await _guest_enquiry(client, email)
    owner = await make_account(app, email=email, email_verified=True)
    export = (await client.get("/api/user/export", headers=owner.headers)).json()
    assert [e["piece_type"] for e in export["bespoke_enquiries"]] == ["necklace"]
    assert [e["template"] for e in export["emails"]] == ["bespoke_enquiry_ack"]
    assert (await client.delete("/api/user", headers=owner.headers)).status_code == 204
    assert await _enquiries_and_emails(app, email) == (0, 0)


async def test_staff_run_a_subject_access_export_for_a_client_and_it_is_audited(
    app: FastAPI, client: AsyncClient, customer: Account, staff: Account, admin: Account
) -> None:
    url = f"/api/admin/users/{customer.id}/export"
    response = await client.get(url, headers=staff.headers)
    assert response.status_code == 200, response.text
    assert response.json()["account"]["email"] == customer.email
    assert (await client.get(url, headers=customer.headers)).status_code == 403
    assert (await client.get(url)).status_code == 401
    missing = f"/api/admin/users/{uuid.uuid4()}/export"
    assert (await client.get(missing, headers=staff.headers)).status_code == 404
    of_admin = f"/api/admin/users/{admin.id}/export"
    assert (await client.get(of_admin, headers=staff.headers)).status_code == 403
    of_staff = f"/api/admin/users/{staff.id}/export"
    assert (await client.get(of_staff, headers=admin.headers)).status_code == 200
    async with app.state.sessionmaker() as session:
        actors = list(
            await session.scalars(
                select(AuditEvent.actor_id).where(
                    AuditEvent.action == "privacy.exported", AuditEvent.target_id == customer.id
                )
            )
        )
    assert actors == [uuid.UUID(staff.id)]
