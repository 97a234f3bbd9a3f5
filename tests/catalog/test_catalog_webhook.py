"""POST /api/webhooks/sanity: signatures, upserts, retries, deletes, drafts."""

from __future__ import annotations

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import select

from catalog_helpers import deliver_webhook, demo_document, eventually
from elysium.app import create_app
from elysium.config import Settings
from elysium.models import Product
from factories import SANITY_WEBHOOK_SECRET

URL = "/api/webhooks/sanity"


async def _title(client: AsyncClient, slug: str) -> str | None:
    response = await client.get(f"/api/products/{slug}")
    return response.json()["title"] if response.status_code == 200 else None


async def _rev(app: FastAPI, sanity_id: str) -> tuple[str, object] | None:
    async with app.state.sessionmaker() as session:
        row = (
            await session.execute(
                select(Product.rev, Product.updated_at).where(Product.sanity_id == sanity_id)
            )
        ).first()
    return None if row is None else (row[0], row[1])


@pytest.mark.usefixtures("demo")
async def test_a_signed_update_is_applied_once(app: FastAPI, client: AsyncClient) -> None:
    doc = demo_document("product.celeste-halo") | {"_rev": "rev-2", "title": "Celeste Halo Ring"}
    first = await deliver_webhook(client, doc)
    assert first.status_code == 200, first.text
    assert first.json() == {"status": "applied", "id": "product.celeste-halo"}
    stored = await _rev(app, "product.celeste-halo")
    retry = await deliver_webhook(client, doc)
    assert retry.json()["status"] == "unchanged"
    assert await _rev(app, "product.celeste-halo") == stored

    async def renamed() -> bool:
        return await _title(client, "celeste-halo") == "Celeste Halo Ring"

    await eventually(renamed)
    detail = (await client.get("/api/products/celeste-halo")).json()
    assert detail["collection"] == "bridal"
    assert detail["images"]


async def test_a_new_product_and_its_collection_arrive_by_webhook(client: AsyncClient) -> None:
    assert (await deliver_webhook(client, demo_document("collection.high"))).json()[
        "status"
    ] == "applied"
    response = await deliver_webhook(client, demo_document("product.kashmir-sapphire-necklace"))
    assert response.json()["status"] == "applied"
    product = (await client.get("/api/products/kashmir-sapphire-necklace")).json()
    assert product["collection"] == "high"
    assert product["base_price"]["amount"] == "48500.00"
    collections = (await client.get("/api/collections")).json()["items"]
    assert collections == [
        {
            "slug": "high",
            "title": "High Jewellery",
            "description": "One-of-a-kind pieces, each with its own certificate.",
            "product_count": 1,
        }
    ]


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    "headers",
    [{"sanity-operation": "delete"}, {}],
    ids=["operation-header", "id-only-body"],
)
async def test_a_delete_soft_deletes(
    app: FastAPI, client: AsyncClient, headers: dict[str, str]
) -> None:
    doc = demo_document("product.riviera-tennis-bracelet")
    body = doc if headers else {"_id": doc["_id"]}
    response = await deliver_webhook(client, body, headers=headers)
    assert response.json() == {"status": "deleted", "id": "product.riviera-tennis-bracelet"}
    assert (await client.get("/api/products/riviera-tennis-bracelet")).status_code == 404
    assert (await deliver_webhook(client, body, headers=headers)).json()["status"] == "unchanged"
    async with app.state.sessionmaker() as session:
        kept = await session.scalar(
            select(Product).where(Product.slug == "riviera-tennis-bracelet")
        )
    assert kept is not None
    assert kept.deleted_at is not None
    republished = await deliver_webhook(client, doc | {"_rev": "rev-back"})
    assert republished.json()["status"] == "applied"
    await eventually(lambda: _is_status(client, "/api/products/riviera-tennis-bracelet", 200))


async def _is_status(client: AsyncClient, path: str, status: int) -> bool:
    return (await client.get(path)).status_code == status


@pytest.mark.usefixtures("demo")
async def test_drafts_and_other_types_are_ignored(app: FastAPI, client: AsyncClient) -> None:
    draft = demo_document("drafts.product.aurora-solitaire")
    response = await deliver_webhook(client, draft)
    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "id": "drafts.product.aurora-solitaire"}
    asset = {"_id": "image-abc", "_type": "sanity.imageAsset", "url": "https://cdn.sanity.io/x.jpg"}
    assert (await deliver_webhook(client, asset)).json()["status"] == "ignored"
    aurora = (await client.get("/api/products/aurora-solitaire")).json()
    assert aurora["base_price"]["amount"] == "3950.00"


@pytest.mark.parametrize(
    ("secret", "age_seconds", "signature"),
    [
        ("wrong-secret", 0, None),
        (SANITY_WEBHOOK_SECRET, 3600, None),
        (SANITY_WEBHOOK_SECRET, 0, ""),
        (SANITY_WEBHOOK_SECRET, 0, "t=1700000000000,v1=AAAA"),
    ],
    ids=["bad-signature", "expired", "unsigned", "forged"],
)
async def test_refused_signatures_are_401_and_change_nothing(
    app: FastAPI, client: AsyncClient, secret: str, age_seconds: int, signature: str | None
) -> None:
    doc = demo_document("collection.fine")
    headers = {} if signature is None else {"sanity-webhook-signature": signature}
    response = await deliver_webhook(
        client, doc, secret=secret, age_seconds=age_seconds, headers=headers
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/collections")).json()["items"] == []


async def test_unsigned_request_without_header_is_401(client: AsyncClient) -> None:
    response = await client.post(URL, json=demo_document("collection.fine"))
    assert response.status_code == 401


async def test_bad_bodies_are_4xx(client: AsyncClient) -> None:
    unpriceable = demo_document("product.nova-pendant") | {"basePrice": "lots"}
    response = await deliver_webhook(client, unpriceable)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    for body in ([1, 2], {"_type": "product"}):
        assert (await deliver_webhook(client, body)).status_code in (400, 422)


async def test_without_a_configured_secret_the_webhook_is_503(settings: Settings) -> None:
    unconfigured = settings.model_copy(update={"sanity_webhook_secret": None})
    other = create_app(unconfigured)
    async with LifespanManager(other):
        transport = ASGITransport(app=other)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await deliver_webhook(http, demo_document("collection.fine"))
    assert response.status_code == 503
    assert settings.sanity_webhook_secret == SecretStr(SANITY_WEBHOOK_SECRET)


@pytest.mark.usefixtures("demo")
async def test_a_new_document_may_take_the_slug_of_a_deleted_one(client: AsyncClient) -> None:
    old = demo_document("product.orbit-hoops")
    await deliver_webhook(client, {"_id": old["_id"]})
    newcomer = old | {"_id": "product.orbit-hoops-2026", "_rev": "r1", "title": "Orbit Hoops"}
    assert (await deliver_webhook(client, newcomer)).json()["status"] == "applied"
    assert await _title(client, "orbit-hoops") == "Orbit Hoops"
