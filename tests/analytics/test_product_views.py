"""Product views: tracking by user or guest session, recently viewed, trending, rate limits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from time import monotonic
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, update

from elysium.analytics import service
from elysium.app import create_app
from elysium.config import Settings
from elysium.kit.clock import utcnow
from elysium.models import Product, ProductView
from factories import GUEST_SESSION, Account, create_product, make_account


@pytest.fixture(autouse=True)
def _fresh_trending_cache() -> Iterator[None]:
    service.trending_cache.clear()
    yield
    service.trending_cache.clear()


async def view(
    app: FastAPI,
    client: AsyncClient,
    slug: str,
    session_id: str | None = GUEST_SESSION,
    headers: dict[str, str] | None = None,
) -> None:
    body = {"product_slug": slug} | ({} if session_id is None else {"session_id": session_id})
    response = await client.post("/api/analytics/track-view", json=body, headers=headers)
    assert response.status_code == 202, response.text
    await flush_views(app)


async def flush_views(app: FastAPI) -> None:
    """Write the views the app buffered (it does so on its own every VIEW_FLUSH_SECONDS)."""
    await app.state.view_buffer.flush()


async def add_old_views(app: FastAPI, product: Product, count: int, days_ago: float) -> None:
    at = utcnow() - timedelta(days=days_ago)
    async with app.state.sessionmaker() as session, session.begin():
        session.add_all(
            ProductView(product_id=product.id, session_id="seed-session", viewed_at=at)
            for _ in range(count)
        )


async def withdraw(app: FastAPI, product: Product) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == product.id).values(deleted_at=utcnow())
        )
    app.state.catalog_cache.clear()  # what the catalogue's NOTIFY does after a real withdrawal


def slugs(response_json: dict[str, list[dict[str, object]]]) -> list[object]:
    return [item["product_slug"] for item in response_json["items"]]


async def test_guest_recently_viewed_is_distinct_and_newest_first(
    app: FastAPI, client: AsyncClient
) -> None:
    ring, necklace = await create_product(app), await create_product(app)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == ring.id).values(image_url="https://img/ring.jpg")
        )
    for slug in (ring.slug, necklace.slug, ring.slug):
        await view(app, client, slug)
    response = await client.get(f"/api/analytics/recently-viewed?session_id={GUEST_SESSION}")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["product_slug"] for i in items] == [ring.slug, necklace.slug]
    assert items[0]["title"] == ring.title
    assert items[0]["image"] == "https://img/ring.jpg"
    assert items[0]["viewed_at"] > items[1]["viewed_at"]
    limited = await client.get(f"/api/analytics/recently-viewed?session_id={GUEST_SESSION}&limit=1")
    assert slugs(limited.json()) == [ring.slug]
    other = await client.get("/api/analytics/recently-viewed?session_id=another-session")
    assert other.json()["items"] == []


async def test_signed_in_views_belong_to_the_user(app: FastAPI, client: AsyncClient) -> None:
    piece = await create_product(app)
    owner, stranger = await make_account(app), await make_account(app)
    await view(app, client, piece.slug, session_id=GUEST_SESSION, headers=owner.headers)
    mine = await client.get("/api/analytics/recently-viewed", headers=owner.headers)
    assert slugs(mine.json()) == [piece.slug]
    theirs = await client.get("/api/analytics/recently-viewed", headers=stranger.headers)
    assert theirs.json()["items"] == []
    as_guest = await client.get(f"/api/analytics/recently-viewed?session_id={GUEST_SESSION}")
    assert as_guest.json()["items"] == []  # the signed-in view was not filed under the session


async def test_concurrent_reads_each_get_their_own_viewers_list(
    app: FastAPI, client: AsyncClient
) -> None:
    """Reads made at once share one statement (analytics.recent): each still answers only its
    own viewer's pieces, newest first, cut at its own limit."""
    pieces = [await create_product(app) for _ in range(3)]
    user = await make_account(app)
    guests = [f"batch-guest-{uuid.uuid4().hex[:12]}" for _ in range(3)]
    for n, guest in enumerate(guests):  # guest n saw pieces[0..n], the last one newest
        for piece in pieces[: n + 1]:
            await view(app, client, piece.slug, session_id=guest)
    await view(app, client, pieces[2].slug, headers=user.headers)
    expected = {
        guest: [piece.slug for piece in reversed(pieces[: n + 1])] for n, guest in enumerate(guests)
    }

    def read(i: int) -> Any:
        if i % 4 == 3:
            return client.get("/api/analytics/recently-viewed", headers=user.headers)
        guest = guests[i % 4]
        return client.get(f"/api/analytics/recently-viewed?session_id={guest}&limit={1 + i % 3}")

    responses = await asyncio.gather(*(read(i) for i in range(24)))
    for i, response in enumerate(responses):
        assert response.status_code == 200, response.text
        if i % 4 == 3:
            assert slugs(response.json()) == [pieces[2].slug]
        else:
            assert slugs(response.json()) == expected[guests[i % 4]][: 1 + i % 3]


async def test_withdrawn_products_drop_out_of_both_lists(app: FastAPI, client: AsyncClient) -> None:
    kept, withdrawn = await create_product(app), await create_product(app)
    await view(app, client, kept.slug)
    await view(app, client, withdrawn.slug)
    await withdraw(app, withdrawn)
    recent = await client.get(f"/api/analytics/recently-viewed?session_id={GUEST_SESSION}")
    assert slugs(recent.json()) == [kept.slug]
    trending = await client.get("/api/analytics/trending")
    assert slugs(trending.json()) == [kept.slug]
    gone = await client.post("/api/analytics/track-view", json={"product_slug": withdrawn.slug})
    assert gone.status_code == 404


async def test_trending_counts_the_last_seven_days_only(app: FastAPI, client: AsyncClient) -> None:
    steady, faded, fresh = [await create_product(app) for _ in range(3)]
    await add_old_views(app, steady, 3, days_ago=6.5)
    await add_old_views(app, faded, 10, days_ago=7.5)
    await view(app, client, fresh.slug, session_id=None)
    response = await client.get("/api/analytics/trending")
    assert response.status_code == 200
    assert response.json()["items"] == [
        {"product_slug": steady.slug, "title": steady.title, "image": None, "views": 3},
        {"product_slug": fresh.slug, "title": fresh.title, "image": None, "views": 1},
    ]
    top = await client.get("/api/analytics/trending?limit=1")
    assert slugs(top.json()) == [steady.slug]


async def test_trending_reflects_a_new_view_within_a_minute(
    app: FastAPI, client: AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert 0 < settings.trending_cache_seconds <= 60
    leader, challenger = await create_product(app), await create_product(app)
    await add_old_views(app, leader, 2, days_ago=1)
    await add_old_views(app, challenger, 2, days_ago=1)
    before = await client.get("/api/analytics/trending")
    assert [i["views"] for i in before.json()["items"]] == [2, 2]
    await view(app, client, challenger.slug)

    now = monotonic()
    monkeypatch.setattr(service, "monotonic", lambda: now + settings.trending_cache_seconds)
    after = (await client.get("/api/analytics/trending")).json()["items"]
    assert after[0] == {
        "product_slug": challenger.slug,
        "title": challenger.title,
        "image": None,
        "views": 3,
    }


async def test_bad_input_is_refused(app: FastAPI, client: AsyncClient) -> None:
    piece = await create_product(app)
    unknown = await client.post(
        "/api/analytics/track-view", json={"product_slug": f"no-such-{uuid.uuid4().hex[:6]}"}
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    bad_bodies = [
        {"product_slug": "Not A Slug!"},
        {"product_slug": piece.slug, "session_id": "x"},
        {"product_slug": piece.slug, "session_id": "bad session id with spaces"},
        {"product_slug": piece.slug, "colour": "gold"},
        {},
    ]
    for body in bad_bodies:
        response = await client.post("/api/analytics/track-view", json=body)
        assert response.status_code == 422, body
    for query in ("", "?session_id=x", f"?session_id={GUEST_SESSION}&limit=51", "?limit=0"):
        response = await client.get(f"/api/analytics/recently-viewed{query}")
        assert response.status_code == 422, query
    assert (await client.get("/api/analytics/trending?limit=51")).status_code == 422
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProductView)) == 0


async def test_anonymous_views_are_rate_limited(
    app: FastAPI, client: AsyncClient, settings: Settings, customer: Account
) -> None:
    piece = await create_product(app)
    strict = create_app(settings.model_copy(update={"anonymous_writes_per_minute": 2}))
    async with LifespanManager(strict):
        transport = ASGITransport(app=strict, client=("192.0.2.44", 1234))
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            statuses = [
                (
                    await http.post("/api/analytics/track-view", json={"product_slug": piece.slug})
                ).status_code
                for _ in range(3)
            ]
            signed_in = await http.post(
                "/api/analytics/track-view",
                json={"product_slug": piece.slug},
                headers=customer.headers,
            )
    assert statuses == [202, 202, 429]
    assert signed_in.status_code == 429  # signing in does not lift the address's limit
