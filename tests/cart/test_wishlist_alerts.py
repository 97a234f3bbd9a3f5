"""Wishlist alerts through the job worker: back in stock and price drops, in-app and by email,
once per change, as the client's wishlist preferences allow."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from elysium.engagement import alerts
from elysium.jobs import enqueue
from elysium.models import SentEmail
from factories import (
    HALF_CARAT,
    HALF_CARAT_KEY,
    Account,
    make_account,
    queued_emails,
    set_stock,
    stocked_piece,
    update_product,
)
from job_helpers import run_jobs


async def run_alert_job(app: FastAPI) -> None:
    """Defer the periodic `wishlist_alerts` job as its schedule would, and run the worker."""
    async with app.state.sessionmaker() as session, session.begin():
        await enqueue(session, "wishlist_alerts", queue="default", timestamp=0)
    await run_jobs()


async def wish(client: AsyncClient, who: Account, slug: str, **body: object) -> None:
    response = await client.post(
        "/api/wishlist", json={"product_slug": slug, **body}, headers=who.headers
    )
    assert response.status_code in (200, 201), response.text


async def notices(client: AsyncClient, who: Account, kind: str) -> list[dict[str, object]]:
    items = (await client.get("/api/notifications", headers=who.headers)).json()["items"]
    return [n for n in items if n["kind"] == kind]


async def test_back_in_stock_and_price_drop_are_told_once_per_change(
    app: FastAPI, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alerts, "BATCH", 2)  # three entries: the job walks two batches
    piece = await stocked_piece(app, level=0)
    exact, any_variant, in_app_only = [await make_account(app) for _ in range(3)]
    await wish(client, exact, piece.slug, configuration=HALF_CARAT)
    await wish(client, any_variant, piece.slug)
    await wish(client, in_app_only, piece.slug, configuration=HALF_CARAT)
    no_email = {"preferences": [{"topic": "wishlist", "channel": "email", "enabled": False}]}
    path = "/api/user/contact-preferences"
    assert (await client.put(path, json=no_email, headers=in_app_only.headers)).is_success

    await run_alert_job(app)
    assert await queued_emails(app, "wishlist_back_in_stock") == []

    await set_stock(app, piece, {HALF_CARAT_KEY: 2})
    await run_alert_job(app)
    await run_alert_job(app)  # nothing changed since: nothing more
    restocked = await queued_emails(app, "wishlist_back_in_stock")
    assert sorted(e.to for e in restocked) == sorted([exact.email, any_variant.email])
    assert all(e.status == "sent" for e in restocked)
    for who in (exact, any_variant, in_app_only):
        [notice] = await notices(client, who, "wishlist_back_in_stock")
        assert notice["expires_at"] is not None

    await update_product(app, piece, base_price_pence=2100_00)
    await run_alert_job(app)
    await run_alert_job(app)
    dropped = await queued_emails(app, "wishlist_price_drop")
    assert sorted(e.to for e in dropped) == sorted([exact.email, any_variant.email])
    [to_exact] = [e for e in dropped if e.to == exact.email]
    assert to_exact.context is not None
    assert (to_exact.context["price"], to_exact.context["previous_price"]) == (2100_00, 2400_00)
    assert len(await notices(client, in_app_only, "wishlist_price_drop")) == 1

    await update_product(app, piece, base_price_pence=2300_00)  # a rise is not news
    await run_alert_job(app)
    assert len(await queued_emails(app, "wishlist_price_drop")) == 2
    await update_product(app, piece, base_price_pence=2200_00)  # below what was last seen
    await run_alert_job(app)
    assert len(await queued_emails(app, "wishlist_price_drop")) == 4
    async with app.state.sessionmaker() as session:
        statuses = set(
            await session.scalars(
                select(SentEmail.status).where(SentEmail.template.like("wishlist_%"))
            )
        )
    assert statuses == {"sent"}


async def test_sold_out_again_then_back_is_a_new_change(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    piece = await stocked_piece(app, level=0)
    await wish(client, customer, piece.slug, configuration=HALF_CARAT)
    for level in (1, 0, 3):
        await set_stock(app, piece, {HALF_CARAT_KEY: level})
        await run_alert_job(app)
    assert len(await queued_emails(app, "wishlist_back_in_stock")) == 2
    assert len(await notices(client, customer, "wishlist_back_in_stock")) == 2
