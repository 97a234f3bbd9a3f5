"""Saved, shareable configurations: short unguessable codes, priced when opened."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from elysium.config import Settings
from elysium.kit.clock import utcnow
from factories import HALF_CARAT, HALF_CARAT_KEY, stocked_piece, update_product


async def _save(client: AsyncClient, slug: str, configuration: dict[str, str]) -> dict[str, str]:
    body = {"product_slug": slug, "configuration": configuration}
    response = await client.post("/api/cart/save-configuration", json=body)
    assert response.status_code == 201, response.text
    saved: dict[str, str] = response.json()
    return saved


async def test_round_trip_with_the_current_price(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    product = await stocked_piece(app)
    config = {"carat": "0.50", "metal": "platinum", "engraving": " Always "}
    saved = await _save(client, product.slug, config)
    code = saved["code"]
    assert len(code) >= 10
    assert code.isalnum()
    assert saved["url"] == f"{settings.public_base_url.rstrip('/')}/configurations/{code}"
    opened = (await client.get(f"/api/configurations/{code}")).json()
    assert opened["product_slug"] == product.slug
    assert opened["title"] == product.title
    assert opened["configuration"] == HALF_CARAT | {"engraving": "Always"}
    assert opened["variant_key"] == HALF_CARAT_KEY
    assert opened["unit_price"]["amount"] == "2495.00"
    assert opened["available"] is True
    await update_product(app, product, base_price_pence=300_000)
    repriced = (await client.get(f"/api/configurations/{code}")).json()
    assert repriced["unit_price"]["amount"] == "3095.00"


async def test_codes_differ_every_time(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    codes = {(await _save(client, product.slug, HALF_CARAT))["code"] for _ in range(5)}
    assert len(codes) == 5


async def test_invalid_configuration_and_unknown_codes(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    bad = await client.post(
        "/api/cart/save-configuration",
        json={"product_slug": product.slug, "configuration": {"metal": "platinum", "carat": "9"}},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "configuration.carat"
    for code in ("0123456789ab", "nope", "x" * 32, "%00"):
        assert (await client.get(f"/api/configurations/{code}")).status_code == 404


async def test_a_withdrawn_piece_is_shown_unavailable(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    code = (await _save(client, product.slug, HALF_CARAT))["code"]
    await update_product(app, product, deleted_at=utcnow())
    opened = (await client.get(f"/api/configurations/{code}")).json()
    assert opened["available"] is False
    assert opened["unit_price"] is None
