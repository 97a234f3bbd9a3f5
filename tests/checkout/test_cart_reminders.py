"""Forgotten carts through the job worker: one reminder per unchanged cart state, only with
marketing consent, never once the pieces were ordered, with a one-click unsubscribe link."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from elysium.checkout import reminders as cart_reminders
from elysium.jobs import enqueue
from elysium.kit.clock import utcnow
from elysium.models import Cart, CartItem, CartReminder
from factories import (
    Account,
    Shopper,
    add_to_cart,
    placed_order,
    queued_emails,
    shopper,
    stocked_piece,
)
from job_helpers import run_jobs

PREFERENCES = "/api/user/contact-preferences"


async def run_reminder_job(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await enqueue(session, "cart_reminders", queue="default", timestamp=0)
    await run_jobs()


async def consent_to_marketing(client: AsyncClient, who: Account) -> None:
    body = {"preferences": [{"topic": "marketing", "channel": "email", "enabled": True}]}
    assert (await client.put(PREFERENCES, json=body, headers=who.headers)).is_success


async def age_cart(app: FastAPI, who: Shopper, hours: float = 25) -> None:
    """Pretend the cart was last changed `hours` ago (and any reminder came before that)."""
    then = utcnow() - timedelta(hours=hours)
    async with app.state.sessionmaker() as session, session.begin():
        cart_id = (
            await session.execute(
                update(Cart)
                .where(Cart.user_id == uuid.UUID(who.account.id))
                .values(updated_at=then)
                .returning(Cart.id)
            )
        ).scalar_one()
        await session.execute(
            update(CartItem).where(CartItem.cart_id == cart_id).values(created_at=then)
        )
        await session.execute(
            update(CartReminder)
            .where(CartReminder.cart_id == cart_id)
            .values(sent_at=then - timedelta(hours=1))
        )


async def test_one_reminder_per_cart_state_with_consent_only(
    app: FastAPI, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cart_reminders, "BATCH", 1)  # the job walks every batch
    ring, pendant = await stocked_piece(app), await stocked_piece(app)
    keen, shy, fresh = [await shopper(app, client, ring) for _ in range(3)]
    await consent_to_marketing(client, keen.account)
    await consent_to_marketing(client, fresh.account)
    await age_cart(app, keen)
    await age_cart(app, shy)
    await age_cart(app, fresh, hours=2)  # changed two hours ago: not forgotten yet

    await run_reminder_job(app)
    await run_reminder_job(app)
    [first] = await queued_emails(app, "cart_reminder")
    assert (first.to, first.status) == (keen.account.email, "sent")
    assert first.context is not None
    assert first.context["items"] == [{"title": ring.title, "quantity": 1}]

    await add_to_cart(client, keen.account, pendant)  # a new state ...
    await run_reminder_job(app)
    assert len(await queued_emails(app, "cart_reminder")) == 1  # ... not yet forgotten
    await age_cart(app, keen)
    await run_reminder_job(app)
    reminders = await queued_emails(app, "cart_reminder")
    assert [e.to for e in reminders] == [keen.account.email] * 2


async def test_the_unsubscribe_link_works_without_signing_in(
    app: FastAPI, client: AsyncClient
) -> None:
    ring = await stocked_piece(app)
    keen = await shopper(app, client, ring)
    await consent_to_marketing(client, keen.account)
    await age_cart(app, keen)
    await run_reminder_job(app)
    [email] = await queued_emails(app, "cart_reminder")
    assert email.context is not None
    link = email.context["unsubscribe_url"]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    response = await client.get(path)  # no Authorization header
    assert response.status_code == 200
    shown = (await client.get(PREFERENCES, headers=keen.account.headers)).json()
    marketing = next(
        p for p in shown["preferences"] if (p["topic"], p["channel"]) == ("marketing", "email")
    )
    assert marketing["enabled"] is False

    await add_to_cart(client, keen.account, await stocked_piece(app))
    await age_cart(app, keen)
    await run_reminder_job(app)
    assert len(await queued_emails(app, "cart_reminder")) == 1


async def test_never_after_ordering_those_pieces(app: FastAPI, client: AsyncClient) -> None:
    ring = await stocked_piece(app)
    buyer = await shopper(app, client, ring)
    await consent_to_marketing(client, buyer.account)
    await placed_order(client, buyer)
    await add_to_cart(client, buyer.account, ring)  # the same piece, again
    await age_cart(app, buyer, hours=30)
    await run_reminder_job(app)
    assert await queued_emails(app, "cart_reminder") == []
