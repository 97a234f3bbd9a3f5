"""Periodic housekeeping: old sessions, data past retention, the low-stock digest, schedules."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from elysium.accounts.tasks import delete_expired_sessions
from elysium.config import Settings
from elysium.inventory.digest import send_low_stock_digest
from elysium.jobs import dispose_job_engine, job_app
from elysium.kit.clock import utcnow
from elysium.models import AuthSession, IdempotencyKey, JobError, Notification, SentEmail
from elysium.orders.tasks import expire_holds
from elysium.privacy.retention import apply_retention
from factories import Account, add_to_cart, checkout, shopper, stocked_piece


async def test_every_housekeeping_job_is_scheduled() -> None:
    job_app.perform_import_paths()  # type: ignore[no-untyped-call]  # procrastinate leaves it bare
    scheduled = {
        task.task.name: task.cron for task in job_app.periodic_registry.periodic_tasks.values()
    }
    assert scheduled == {
        "expire_holds": "* * * * *",
        "delete_expired_sessions": "17 * * * *",
        "delete_old_rate_events": "*/10 * * * *",
        "send_low_stock_digest": "0 8 * * *",
        "apply_data_retention": "30 3 * * *",
        "retry_requested_refunds": "*/5 * * * *",
        "remind_consultations": "*/15 * * * *",
        "purge_old_product_views": "45 3 * * *",
        "purge_expired_guest_carts": "50 3 * * *",
        "retry_stalled_jobs": "* * * * *",
        "wishlist_alerts": "*/5 * * * *",
        "cart_reminders": "*/15 * * * *",
    }


async def test_old_expired_and_revoked_sessions_are_deleted(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    now = utcnow()
    long_ago, lately = now - timedelta(days=40), now - timedelta(days=1)
    async with app.state.sessionmaker() as session, session.begin():
        for n, (expires, revoked) in enumerate(
            [(long_ago, None), (now + timedelta(days=1), long_ago), (lately, None)]
        ):
            session.add(
                AuthSession(
                    user_id=uuid.UUID(customer.id),
                    token_hash=f"{n:064d}",
                    created_at=long_ago,
                    expires_at=expires,
                    revoked_at=revoked,
                )
            )
    await delete_expired_sessions(timestamp=0)
    await dispose_job_engine()
    async with app.state.sessionmaker() as session:
        kept = set((await session.execute(select(AuthSession.token_hash))).scalars())
    assert f"{2:064d}" in kept
    assert not {f"{0:064d}", f"{1:064d}"} & kept
    assert (await client.get("/api/auth/session", headers=customer.headers)).status_code == 200


async def test_retention_forgets_old_email_bodies_notices_and_orphan_job_errors(
    app: FastAPI, client: AsyncClient, settings: Settings, customer: Account
) -> None:
    old = utcnow() - timedelta(days=settings.email_retention_days + 1)
    async with app.state.sessionmaker() as session, session.begin():
        for key, status in (("old-sent", "sent"), ("old-queued", "queued")):
            session.add(
                SentEmail(
                    to="a@example.com",
                    template="welcome",
                    context={"x": 1},
                    status=status,
                    idempotency_key=key,
                    created_at=old,
                )
            )
        for title, created in (("old", old), ("new", utcnow())):
            session.add(
                Notification(
                    user_id=uuid.UUID(customer.id),
                    kind="k",
                    title=title,
                    body="b",
                    created_at=created,
                )
            )
        session.add(JobError(job_id=987654, task_name="gone", attempt=1, error="x"))
    async with app.state.sessionmaker() as session, session.begin():
        counts = await apply_retention(session, settings)
    assert counts == {
        "email_contexts": 1,
        "notifications": 1,
        "idempotency_keys": 0,
        "job_errors": 1,
    }
    async with app.state.sessionmaker() as session:
        contexts = dict(
            (await session.execute(select(SentEmail.idempotency_key, SentEmail.context)))
            .tuples()
            .all()
        )
        titles = list((await session.execute(select(Notification.title))).scalars())
        errors = await session.scalar(select(func.count()).select_from(JobError))
    assert contexts["old-sent"] is None
    assert contexts["old-queued"] == {"x": 1}  # not yet delivered: kept
    assert titles == ["new"]
    assert errors == 0


async def test_low_stock_digest_goes_to_staff_once_a_day(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    product = await stocked_piece(app, level=1)
    plenty = await stocked_piece(app, level=9)
    for _ in range(2):
        async with app.state.sessionmaker() as session, session.begin():
            assert await send_low_stock_digest(session, settings) == 1
    async with app.state.sessionmaker() as session:
        [email] = (await session.execute(select(SentEmail))).scalars().all()
    assert (email.to, email.template) == (settings.staff_email, "low_stock_digest")
    assert email.context is not None
    [row] = email.context["variants"]
    assert (row["product_slug"], row["available"]) == (product.slug, 1)
    assert plenty.slug not in str(email.context)


async def test_expiry_of_holds_runs_against_the_real_domains(app: FastAPI) -> None:
    await expire_holds(timestamp=0)
    await dispose_job_engine()


async def test_idempotency_keys_expire_after_the_configured_period(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    product = await stocked_piece(app, level=3)
    who = await shopper(app, client, product)
    assert (await checkout(client, who, key="old-key")).status_code == 201
    await add_to_cart(client, who.account, product)
    assert (await checkout(client, who, key="new-key")).status_code == 201
    async with app.state.sessionmaker() as session, session.begin():
        old = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "old-key"))
        assert old is not None
        old.created_at = utcnow() - timedelta(days=settings.idempotency_key_ttl_days, hours=1)
        newer = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "new-key"))
        assert newer is not None
        newer.created_at = utcnow() - timedelta(days=settings.idempotency_key_ttl_days - 1)

    async with app.state.sessionmaker() as session, session.begin():
        counts = await apply_retention(session, settings)
    assert counts["idempotency_keys"] == 1
    async with app.state.sessionmaker() as session:
        keys = list(await session.scalars(select(IdempotencyKey.key)))
    assert keys == ["new-key"]

    shorter = settings.model_copy(update={"idempotency_key_ttl_days": 7})
    async with app.state.sessionmaker() as session, session.begin():
        assert (await apply_retention(session, shorter))["idempotency_keys"] == 1
