"""Every column that refers to a user is exported and erased: discovered from the schema, so a
table added later fails here, by name, until privacy.service.PERSONAL_COLUMNS covers it."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import String, Uuid, select, text

from elysium.db import Base
from elysium.kit.clock import utcnow
from elysium.kit.tokens import hash_token, new_token
from elysium.models import (
    BillingCustomer,
    Coupon,
    CouponRedemption,
    Payment,
    PaymentEvent,
    RecoveryCode,
    Review,
    SavedCard,
    UserIdentity,
)
from elysium.models.user import IdentityProvider
from elysium.privacy.service import EXPORTERS, PERSONAL_COLUMNS, Coverage, Erasure
from factories import (
    HALF_CARAT,
    Account,
    book_next_free_slot,
    make_account,
    placed_order,
    shopper,
    stocked_piece,
)

# Foreign keys to users declared in the database itself (a table made by a migration alone).
_DATABASE_FKS = text(
    """
    SELECT kcu.table_name || '.' || kcu.column_name
    FROM information_schema.table_constraints tc
    JOIN information_schema.key_column_usage kcu
      ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
    JOIN information_schema.constraint_column_usage ccu
      ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
    WHERE tc.constraint_type = 'FOREIGN KEY' AND ccu.table_name = 'users'
      AND tc.table_schema = current_schema()
      AND NOT EXISTS (  -- a partition (product_views by month) is covered by its parent
        SELECT 1 FROM pg_class c
        WHERE c.relname = kcu.table_name AND c.relispartition
      )
    """
)


def _refers_to_a_user(table: str, column: Any) -> bool:
    if any(fk.column.table.name == "users" for fk in column.foreign_keys):
        return True
    if isinstance(column.type, Uuid) and column.name.endswith(("user_id", "actor_id")):
        return True
    email_like = column.name == "email" or column.name.endswith("_email")
    return isinstance(column.type, String) and (
        email_like or (table, column.name) == ("sent_emails", "to")
    )


def model_columns() -> set[str]:
    """`table.column` for every column of the models that holds a user's id or an email."""
    return {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if _refers_to_a_user(table.name, column)
    }


async def database_columns(app: FastAPI) -> set[str]:
    async with app.state.engine.connect() as conn:
        return set((await conn.execute(_DATABASE_FKS)).scalars())


async def test_every_personal_column_is_covered_by_export_and_erasure(app: FastAPI) -> None:
    found = model_columns() | await database_columns(app)
    missing = sorted(found - set(PERSONAL_COLUMNS))
    assert not missing, (
        f"tables with columns referring to a user but not in privacy.service.PERSONAL_COLUMNS "
        f"(export them and erase or anonymise them on erasure): {missing}"
    )
    stale = sorted(set(PERSONAL_COLUMNS) - found)
    assert not stale, f"PERSONAL_COLUMNS lists columns the schema no longer has: {stale}"
    for name, coverage in PERSONAL_COLUMNS.items():
        if coverage.erasure in (Erasure.STAFF_ACTOR, Erasure.KEPT):
            assert coverage.why, f"{name}: say why it is kept"
        else:
            assert coverage.export in EXPORTERS, f"{name}: no export section {coverage.export!r}"


# --- the subject: a verified client with a row in every table that refers to a user ---------


async def _insert(app: FastAPI, *rows: Any) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        session.add_all(rows)


async def populated_client(app: FastAPI, client: AsyncClient) -> Account:
    product = await stocked_piece(app, level=5)
    who = await shopper(app, client, product)
    account = who.account
    uid = uuid.UUID(account.id)
    order = await placed_order(client, who)  # order, idempotency key, emails
    await shopper_cart(client, account, product)
    headers = account.headers
    wish = await client.post("/api/wishlist", json={"product_slug": product.slug}, headers=headers)
    assert wish.status_code == 201, wish.text
    view = {"product_slug": product.slug}
    assert (
        await client.post("/api/analytics/track-view", json=view, headers=headers)
    ).status_code == 202
    await app.state.view_buffer.flush()  # product view and recent view written now
    preferences = {
        "preferences": [{"topic": "marketing", "channel": "email", "enabled": True}]
    }  # a preference and its consent record
    assert (
        await client.put("/api/user/contact-preferences", json=preferences, headers=headers)
    ).status_code == 200
    await book_next_free_slot(client, account, "An engagement ring")  # booking + notification
    enquiry = {
        "name": "Ada Client",
        "email": account.email,
        "piece_type": "engagement ring",
        "notes": "Something with a sapphire.",
    }
    assert (await client.post("/api/bespoke", json=enquiry, headers=headers)).status_code == 201
    assert (await client.post("/api/auth/verify-email", headers=headers)).status_code == 202
    async with app.state.sessionmaker() as session:
        intent = await session.scalar(
            select(Payment.provider_payment_id).where(Payment.order_id == uuid.UUID(order["id"]))
        )
    assert intent is not None
    event = {
        "id": "evt_gdpr",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": intent, "receipt_email": account.email}},
    }
    coupon = Coupon(code=f"G{uuid.uuid4().hex[:10]}".upper(), kind="fixed", amount_pence=1000)
    await _insert(app, coupon)
    now = utcnow()
    await _insert(
        app,
        Review(product_id=product.id, user_id=uid, rating=5, title="Lovely", body="Truly."),
        RecoveryCode(user_id=uid, code_hash=hash_token(new_token()), created_at=now),
        UserIdentity(
            user_id=uid,
            provider=IdentityProvider.GOOGLE,
            subject=uuid.uuid4().hex,
            email=account.email,
            created_at=now,
        ),
        CouponRedemption(coupon_id=coupon.id, user_id=uid, order_id=uuid.UUID(order["id"])),
        BillingCustomer(user_id=uid, provider="stripe", provider_customer_id=f"cus_{uid.hex}"),
        SavedCard(
            user_id=uid,
            provider="stripe",
            provider_payment_method_id=f"pm_{uid.hex}",
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=2030,
            is_default=True,
        ),
        PaymentEvent(
            source="stripe",
            external_id="evt_gdpr",
            type=event["type"],
            payload=event,
            processed_at=now,
        ),
    )
    return account


async def shopper_cart(client: AsyncClient, account: Account, product: Any) -> None:
    body = {"product_slug": product.slug, "configuration": HALF_CARAT, "quantity": 1}
    response = await client.post("/api/cart", json=body, headers=account.headers)
    assert response.status_code == 201, response.text


def _tied(name: str) -> str:
    table, column = name.split(".")
    value = ":email" if column in ("email", "to") else ":uid"
    return f'SELECT count(*) FROM "{table}" WHERE "{column}" = {value}'


async def _count(app: FastAPI, sql: str, **params: Any) -> int:
    async with app.state.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


def _subject_columns() -> dict[str, Coverage]:
    return {
        name: coverage
        for name, coverage in PERSONAL_COLUMNS.items()
        if coverage.erasure in (Erasure.DELETED, Erasure.ANONYMISED)
    }


async def test_every_personal_table_is_exported_and_erased(
    app: FastAPI, client: AsyncClient
) -> None:
    other = await make_account(app, email_verified=True)  # must survive the erasure below
    subject = await populated_client(app, client)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE users SET email_verified_at = now() WHERE id = :id"), {"id": subject.id}
        )
    params = {"uid": uuid.UUID(subject.id), "email": subject.email}
    for name in _subject_columns():
        assert await _count(app, _tied(name), **params) > 0, f"the test made no {name} row"

    export = (await client.get("/api/user/export", headers=subject.headers)).json()
    for name, coverage in _subject_columns().items():
        assert coverage.export is not None
        assert export[coverage.export], f"{name}: export section {coverage.export} is empty"

    assert (await client.delete("/api/user", headers=subject.headers)).status_code == 204

    for name, coverage in _subject_columns().items():
        left = await _count(app, _tied(name), **params)
        if coverage.erased_when is None:
            assert left == 0, f"{name}: {left} rows still refer to the erased client"
        else:
            table = name.split(".")[0]
            unerased = await _count(
                app, f"{_tied(name)} AND NOT ({coverage.erased_when})", **params
            )
            assert unerased == 0, f"{table}: rows kept without their personal fields erased"
    kept = "SELECT count(*) FROM payment_events WHERE NOT (payload ? 'erased')"
    assert await _count(app, kept) == 0, "the provider's copy of a payment keeps personal data"
    still = "SELECT count(*) FROM users WHERE email = :email AND deleted_at IS NULL"
    assert await _count(app, still, email=other.email) == 1
