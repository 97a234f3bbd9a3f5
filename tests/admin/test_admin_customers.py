"""/admin/customers: search, the customer page, suspend and reactivate, roles, GDPR export."""

from __future__ import annotations

import json
import re

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update

from admin_helpers import post_form
from back_office import audit_actions, ids_on_page, new_order
from elysium.models import AuditEvent, User
from factories import Account, add_address, book_next_free_slot, make_account


async def test_search_by_email_or_name(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient
) -> None:
    ada = await make_account(app, name="Ada Lovelace")
    grace = await make_account(app, name="Grace Hopper")
    by_name = (await staff_client.get("/admin/customers?q=LOVEL")).text
    assert by_name.count('data-testid="customer-row"') == 1
    assert f'href="/admin/customers/{ada.id}"' in by_name
    by_email = (await staff_client.get(f"/admin/customers?q={grace.email}")).text
    assert by_email.count('data-testid="customer-row"') == 1
    assert grace.email in by_email
    staff_only = (await staff_client.get("/admin/customers?role=staff")).text
    assert ada.email not in staff_only
    assert staff_only.count('data-testid="customer-row"') == 1  # the signed-in staff member


async def test_customer_page_shows_profile_addresses_orders_spend_and_bookings(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    order = await new_order(app, client)
    who: Account = order["customer"]
    await add_address(client, who, "billing", "FR")
    await book_next_free_slot(client, who, "Sapphire engagement ring")
    await client.put(
        f"/api/orders/{order['id']}/status", json={"status": "PAID"}, headers=staff.headers
    )
    html = (await staff_client.get(f"/admin/customers/{who.id}")).text
    assert who.email in html
    assert "1 Bond Street" in html
    assert "1 Rue de la Paix" in html
    assert order["order_number"] in html
    assert re.search(r'data-testid="lifetime-spend">£2,400.00<', html)
    assert "Sapphire engagement ring" in html
    assert "customer-suspend" in ids_on_page(html)
    assert "customer-role-change" not in ids_on_page(html)  # staff, not admin
    assert (await staff_client.get("/admin/customers/not-a-uuid")).status_code == 422
    missing = await staff_client.get("/admin/customers/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


async def test_suspended_customer_cannot_sign_in_until_reactivated(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    who = await make_account(app)
    path = f"/admin/customers/{who.id}"
    suspended = await post_form(staff_client, f"{path}/suspend", {})
    assert suspended.status_code == 303
    assert suspended.headers["location"] == f"{path}?done=suspended"
    page = (await staff_client.get(suspended.headers["location"])).text
    assert "customer-reactivate" in ids_on_page(page)
    assert "Account suspended" in page
    assert (await client.get("/api/auth/session", headers=who.headers)).status_code == 401
    login = await client.post(
        "/api/auth/login", json={"email": who.email, "password": who.password}
    )
    assert login.status_code == 403
    assert ("user.suspended", staff.id) in await audit_actions(app, who.id)

    assert (await post_form(staff_client, f"{path}/reactivate", {})).status_code == 303
    login = await client.post(
        "/api/auth/login", json={"email": who.email, "password": who.password}
    )
    assert login.status_code == 200


async def test_staff_cannot_suspend_staff_or_change_roles(
    app: FastAPI, staff_client: AsyncClient
) -> None:
    colleague = await make_account(app, "staff")
    refused = await post_form(staff_client, f"/admin/customers/{colleague.id}/suspend", {})
    assert refused.status_code == 403
    assert "administrator" in refused.text
    role = await post_form(staff_client, f"/admin/customers/{colleague.id}/role", {"role": "admin"})
    assert role.status_code == 403
    async with app.state.sessionmaker() as session:
        row = await session.get(User, colleague.id)
    assert row is not None
    assert (row.is_active, row.role) == (True, "staff")


async def test_admin_changes_roles_but_never_removes_the_last_admin(
    app: FastAPI, admin_client: AsyncClient, admin: Account
) -> None:
    who = await make_account(app)
    promoted = await post_form(admin_client, f"/admin/customers/{who.id}/role", {"role": "staff"})
    assert promoted.status_code == 303
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(User.role).where(User.id == who.id)) == "staff"
    last = await post_form(admin_client, f"/admin/customers/{admin.id}/role", {"role": "customer"})
    assert last.status_code == 409
    assert "last administrator" in last.text
    bogus = await post_form(admin_client, f"/admin/customers/{who.id}/role", {"role": "owner"})
    assert bogus.status_code == 422
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(User.role).where(User.id == admin.id)) == "admin"


async def test_subject_access_export_downloads_the_gdpr_export_audited_as_staff(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, staff: Account
) -> None:
    order = await new_order(app, client)
    who: Account = order["customer"]
    response = await post_form(staff_client, f"/admin/customers/{who.id}/export", {})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.text)
    assert data["account"]["email"] == who.email
    assert [o["order_number"] for o in data["orders"]] == [order["order_number"]]
    assert "password_hash" not in response.text
    async with app.state.sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "privacy.exported", AuditEvent.target_id == who.id
            )
        )
    assert event is not None
    assert str(event.actor_id) == staff.id
    assert event.details == {"by_staff": True}


async def test_erased_accounts_are_not_found(app: FastAPI, staff_client: AsyncClient) -> None:
    who = await make_account(app, name="Erased Person")
    async with app.state.sessionmaker() as session, session.begin():
        from elysium.kit.clock import utcnow

        await session.execute(update(User).where(User.id == who.id).values(deleted_at=utcnow()))
    assert (await staff_client.get(f"/admin/customers/{who.id}")).status_code == 404
    assert who.email not in (await staff_client.get("/admin/customers")).text


async def test_admin_resets_a_lost_two_factor_and_staff_cannot(
    app: FastAPI, client: AsyncClient, staff_client: AsyncClient, admin_client: AsyncClient
) -> None:
    colleague = await make_account(app, "staff")
    async with app.state.sessionmaker() as session, session.begin():
        from elysium.kit.clock import utcnow

        await session.execute(
            update(User)
            .where(User.id == colleague.id)
            .values(totp_secret="JBSWY3DPEHPK3PXP", totp_enabled_at=utcnow())
        )
    path = f"/admin/customers/{colleague.id}"
    assert "customer-reset-2fa" not in ids_on_page((await staff_client.get(path)).text)
    assert (await post_form(staff_client, f"{path}/reset-2fa", {})).status_code == 403
    page = (await admin_client.get(path)).text
    assert "customer-reset-2fa" in ids_on_page(page)
    reset = await post_form(admin_client, f"{path}/reset-2fa", {})
    assert reset.status_code == 303
    async with app.state.sessionmaker() as session:
        row = await session.get(User, colleague.id)
    assert row is not None
    assert (row.totp_secret, row.totp_enabled_at) == (None, None)
    assert (await client.get("/api/auth/session", headers=colleague.headers)).status_code == 401
