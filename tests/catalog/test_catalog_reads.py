"""Catalogue reads through the HTTP API: lists, filters, search, pagination, caching, prices."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from catalog_helpers import apply_records, demo_document, eventually
from elysium.catalog.importer import soft_delete_documents
from elysium.catalog.sanity import normalize_document
from elysium.catalog.service import get_product
from factories import set_stock

pytestmark = pytest.mark.usefixtures("demo")

DEMO_PRODUCTS = 18


async def _slugs(client: AsyncClient, query: str) -> list[str]:
    response = await client.get(f"/api/products?{query}")
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


async def test_lists_demo_products_with_their_summary_fields(client: AsyncClient) -> None:
    response = await client.get("/api/products?limit=100")
    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == DEMO_PRODUCTS
    assert body["next_cursor"] is None
    aurora = next(i for i in body["items"] if i["slug"] == "aurora-solitaire")
    assert aurora == {
        "slug": "aurora-solitaire",
        "title": "Aurora Solitaire Engagement Ring",
        "collection": "bridal",
        "category": "rings",
        "base_price": {"amount": "3950.00", "currency": "GBP"},
        "image": "https://cdn.sanity.io/images/elysium/production/0000a1b2c3d4e5f6-1600x1600.jpg",
        "in_stock": True,
        "sku": "ELY-AURO-001",
        "compare_at_price": None,
        "on_sale": False,
        "featured": True,
    }


async def test_filters_by_collection_and_category(client: AsyncClient) -> None:
    high = await _slugs(client, "collection=high&limit=100")
    assert sorted(high) == [
        "colombian-emerald-earrings",
        "emerald-cut-sapphire-ring",
        "kashmir-sapphire-necklace",
        "pink-diamond-cocktail-ring",
    ]
    earrings = await _slugs(client, "category=earrings&collection=fine&limit=100")
    assert sorted(earrings) == ["orbit-hoops", "pearl-drop-earrings", "vesper-diamond-studs"]
    assert await _slugs(client, "collection=nowhere") == []


async def test_cursor_pages_through_everything_once_in_a_stable_order(client: AsyncClient) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = "limit=5" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(f"/api/products?{query}")).json()
        seen += [item["slug"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == DEMO_PRODUCTS == len(set(seen))
    assert seen == await _slugs(client, "limit=100")


async def test_search_matches_title_and_description(app: FastAPI, client: AsyncClient) -> None:
    assert sorted(await _slugs(client, "q=sapphire")) == [
        "emerald-cut-sapphire-ring",
        "kashmir-sapphire-necklace",
    ]
    doc = demo_document("product.aurora-solitaire") | {
        "_rev": "rev-moissanite",
        "description": "A lab-grown moissanite alternative is available on request.",
    }
    await apply_records(app, [normalize_document(doc)])
    await eventually(lambda: _found(client, "q=moissanite", ["aurora-solitaire"]))


async def _found(client: AsyncClient, query: str, expected: list[str]) -> bool:
    return await _slugs(client, query) == expected


async def test_search_forgives_a_typo(client: AsyncClient) -> None:
    found = await _slugs(client, "q=saphire")
    assert set(found) == {"emerald-cut-sapphire-ring", "kashmir-sapphire-necklace"}
    assert (await _slugs(client, "q=seraphin%20trilgy"))[0] == "seraphine-trilogy"


async def test_search_pages_with_a_cursor(client: AsyncClient) -> None:
    first = (await client.get("/api/products?q=ring&limit=2")).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    everything = await _slugs(client, "q=ring&limit=100")
    rest = await _slugs(client, f"q=ring&limit=100&cursor={first['next_cursor']}")
    assert [i["slug"] for i in first["items"]] + rest == everything


@pytest.mark.parametrize(
    "query",
    ["cursor=not-a-cursor", "cursor=WyJ4IiwxXQ", "limit=0", "limit=101", "q=" + "x" * 201],
)
async def test_bad_list_parameters_are_422(client: AsyncClient, query: str) -> None:
    response = await client.get(f"/api/products?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_product_detail_has_options_engraving_and_stock_options(client: AsyncClient) -> None:
    response = await client.get("/api/products/aurora-solitaire")
    assert response.status_code == 200
    product = response.json()
    assert product["collection"] == "bridal"
    assert product["made_to_order"] is False
    assert product["inventory_options"] == ["carat", "metal"]
    assert product["engraving"] == {
        "available": True,
        "price": {"amount": "95.00", "currency": "GBP"},
        "max_length": 24,
    }
    metal = next(o for o in product["options"] if o["name"] == "metal")
    assert metal["label"] == "Metal"
    assert metal["required"] is True
    assert {
        "value": "platinum",
        "label": "Platinum",
        "price_delta": {"amount": "850.00", "currency": "GBP"},
    } in metal["values"]
    assert product["images"][0]["alt"] == "Aurora Solitaire Engagement Ring"
    assert "handcrafted" in product["description"]


async def test_reads_carry_an_etag_and_answer_304(client: AsyncClient) -> None:
    for path in ("/api/products/nova-pendant", "/api/products?collection=fine", "/api/collections"):
        first = await client.get(path)
        assert first.headers["cache-control"] == "public, max-age=60"
        etag = first.headers["etag"]
        assert etag.startswith('W/"')
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        stale = await client.get(path, headers={"If-None-Match": 'W/"something-else"'})
        assert stale.status_code == 200
        assert stale.json() == first.json()


async def test_unknown_deleted_and_malformed_slugs_are_404(
    app: FastAPI, client: AsyncClient
) -> None:
    for slug in ("no-such-piece", "NOT%20A%20SLUG", "x" * 300):
        response = await client.get(f"/api/products/{slug}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/products/orbit-hoops")).status_code == 200
    async with app.state.sessionmaker() as session, session.begin():
        await soft_delete_documents(session, ["product.orbit-hoops"])

    async def gone() -> bool:
        return (await client.get("/api/products/orbit-hoops")).status_code == 404

    await eventually(gone)
    assert "orbit-hoops" not in await _slugs(client, "limit=100")
    price = await client.post("/api/products/orbit-hoops/price", json={"configuration": {}})
    assert price.status_code == 404


async def test_collections_list_counts_live_products(client: AsyncClient) -> None:
    response = await client.get("/api/collections")
    assert response.status_code == 200
    counts = {c["slug"]: c["product_count"] for c in response.json()["items"]}
    assert counts == {"bespoke": 2, "bridal": 6, "fine": 6, "high": 4}
    bridal = next(c for c in response.json()["items"] if c["slug"] == "bridal")
    assert bridal["title"] == "Bridal"
    assert bridal["description"].startswith("Engagement rings")


async def test_price_of_a_configured_ring_with_engraving(client: AsyncClient) -> None:
    configuration = {"metal": "platinum", "carat": "1.00", "ring_size": "L", "engraving": "Forever"}
    response = await client.post(
        "/api/products/aurora-solitaire/price", json={"configuration": configuration}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # 3,950 base + 850 platinum + 6,100 for 1.00 ct + 95 engraving
    assert body["unit_price"] == {"amount": "10995.00", "currency": "GBP"}
    assert body["variant_key"] == "carat=1.00;metal=platinum"
    assert body["available"] is True


async def test_price_of_a_pendant_and_a_made_to_order_piece(client: AsyncClient) -> None:
    pendant = await client.post(
        "/api/products/nova-pendant/price",
        json={"configuration": {"metal": "18k-rose-gold", "chain_length": "50cm"}},
    )
    assert pendant.json()["unit_price"]["amount"] == "1310.00"  # 1,250 + 60 for 50 cm
    assert pendant.json()["variant_key"] == "metal=18k-rose-gold"
    bespoke = await client.post(
        "/api/products/bespoke-signet/price",
        json={"configuration": {"metal": "18k-white-gold", "ring_size": "M"}},
    )
    assert bespoke.json() | {"configuration": None} == {
        "unit_price": {"amount": "2400.00", "currency": "GBP"},
        "variant_key": "default",
        "available": True,
        "configuration": None,
    }


async def test_invalid_configuration_is_422_naming_each_field(client: AsyncClient) -> None:
    response = await client.post(
        "/api/products/aurora-solitaire/price",
        json={"configuration": {"metal": "unobtainium", "ring_size": "L", "colour": "blue"}},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"configuration.metal", "configuration.carat", "configuration.colour"}
    no_engraving = await client.post(
        "/api/products/vesper-diamond-studs/price",
        json={"configuration": {"metal": "platinum", "carat": "0.50", "engraving": "Hi"}},
    )
    assert no_engraving.status_code == 422
    assert no_engraving.json()["errors"][0]["field"] == "configuration.engraving"


async def test_a_refused_configuration_does_not_break_the_next_price(client: AsyncClient) -> None:
    """The product pricing caches across requests must survive a request that failed (422)
    after loading it (found by schemathesis against the demo catalogue: it was a 500)."""
    refused = await client.post(
        "/api/products/aurora-solitaire/price", json={"configuration": {"metal": "tin"}}
    )
    assert refused.status_code == 422
    configuration = {"metal": "platinum", "carat": "1.00", "ring_size": "L"}
    for _ in range(2):
        priced = await client.post(
            "/api/products/aurora-solitaire/price", json={"configuration": configuration}
        )
        assert priced.status_code == 200, priced.text
        assert priced.json()["available"] is True


@pytest.mark.parametrize(
    "body", [{}, {"configuration": "platinum"}, {"configuration": {}, "extra": 1}]
)
async def test_malformed_price_requests_are_422(client: AsyncClient, body: object) -> None:
    response = await client.post("/api/products/nova-pendant/price", json=body)
    assert response.status_code == 422


async def test_sold_out_piece_is_out_of_stock_and_unavailable(
    app: FastAPI, client: AsyncClient
) -> None:
    path = "/api/products/kashmir-sapphire-necklace/price"
    assert (await client.post(path, json={"configuration": {}})).json()["available"] is True
    async with app.state.sessionmaker() as session:
        necklace = await get_product(session, "kashmir-sapphire-necklace")
    await set_stock(app, necklace, {"default": 0})
    priced = (await client.post(path, json={"configuration": {}})).json()
    assert priced["available"] is False
    assert priced["unit_price"]["amount"] == "48500.00"
    items = (await client.get("/api/products?collection=high")).json()["items"]
    stock = {i["slug"]: i["in_stock"] for i in items}
    assert stock["kashmir-sapphire-necklace"] is False
    assert stock["pink-diamond-cocktail-ring"] is True
    assert (await client.get("/api/products/kashmir-sapphire-necklace")).json()["in_stock"] is False
    bespoke = await client.post(
        "/api/products/bespoke-signet/price",
        json={"configuration": {"metal": "18k-white-gold", "ring_size": "M"}},
    )
    assert bespoke.json()["available"] is True  # made to order, no stock rows at all
