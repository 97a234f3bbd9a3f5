"""The jeweller's catalogue: the category tree, product details (SKU, sale price, gallery,
certificate), filters, sorts and facet counts, through HTTP against the demo catalogue."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from catalog_helpers import apply_records, deliver_webhook, demo_document, eventually
from elysium.catalog.sanity import InvalidDocumentError, normalize_document

pytestmark = pytest.mark.usefixtures("demo")


async def _list(client: AsyncClient, query: str) -> dict[str, Any]:
    response = await client.get(f"/api/products?{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _slugs(client: AsyncClient, query: str) -> list[str]:
    return [item["slug"] for item in (await _list(client, query))["items"]]


def _facet(body: dict[str, Any], name: str) -> dict[str, int]:
    return {f["value"]: f["count"] for f in body["facets"][name]}


async def test_categories_form_a_tree_with_live_counts(client: AsyncClient) -> None:
    response = await client.get("/api/categories")
    assert response.status_code == 200
    tree = response.json()["items"]
    assert [c["slug"] for c in tree] == ["rings", "earrings", "necklaces", "bracelets"]
    rings = tree[0]
    assert [c["slug"] for c in rings["children"]] == ["engagement-rings", "wedding-bands"]
    engagement, bands = rings["children"]
    assert engagement["product_count"] == 3
    assert bands["product_count"] == 3
    assert rings["product_count"] == 11  # its own 5 and the 6 below
    earrings = tree[1]
    assert (earrings["product_count"], earrings["children"][0]["slug"]) == (4, "studs")
    assert sum(c["product_count"] for c in tree) == 18


async def test_a_category_includes_its_descendants(client: AsyncClient) -> None:
    rings = await _slugs(client, "category=rings&limit=100")
    engagement = await _slugs(client, "category=engagement-rings&limit=100")
    assert sorted(engagement) == ["bespoke-engagement-ring", "celeste-halo", "seraphine-trilogy"]
    assert set(engagement) < set(rings)
    assert "aurora-solitaire" in rings
    assert len(rings) == 11
    assert await _slugs(client, "category=no-such-thing") == []


async def test_product_detail_shows_sale_gallery_and_certificate(client: AsyncClient) -> None:
    hoops = (await client.get("/api/products/orbit-hoops")).json()
    assert hoops["base_price"] == {"amount": "780.00", "currency": "GBP"}
    assert hoops["compare_at_price"] == {"amount": "920.00", "currency": "GBP"}
    assert hoops["on_sale"] is True
    assert hoops["sku"].startswith("ELY-")
    aurora = (await client.get("/api/products/aurora-solitaire")).json()
    assert aurora["featured"] is True
    assert aurora["compare_at_price"] is None
    assert aurora["certificate"] is None
    assert len(aurora["images"]) == 3
    assert all(i["url"] and i["alt"] and i["width"] and i["height"] for i in aurora["images"])
    assert aurora["images"][1]["height"] == 1200
    assert aurora["metals"] == ["18k-yellow-gold", "18k-white-gold", "18k-rose-gold", "platinum"]
    pink = (await client.get("/api/products/pink-diamond-cocktail-ring")).json()
    assert pink["certificate"] == {
        "laboratory": "GIA",
        "number": "2231458861",
        "carat": "2.02",
        "colour": "Fancy Intense Pink",
        "clarity": "VS1",
        "cut": "Excellent",
    }
    listed = await _list(client, "collection=fine&limit=100")
    sale = {i["slug"] for i in listed["items"] if i["on_sale"]}
    assert sale == {"orbit-hoops", "pearl-drop-earrings"}


async def test_filters_by_metal_and_price_range(client: AsyncClient) -> None:
    platinum = await _slugs(client, "metal=platinum&limit=100")
    assert "aurora-solitaire" in platinum
    assert "kashmir-sapphire-necklace" not in platinum  # it has no metal option
    body = await _list(client, "min_price=1000&max_price=2500&limit=100")
    prices = [float(i["base_price"]["amount"]) for i in body["items"]]
    assert prices
    assert all(1000 <= p <= 2500 for p in prices)
    exact = await _slugs(client, "min_price=780&max_price=780.00")
    assert exact == ["orbit-hoops"]
    combined = await _slugs(client, "category=earrings&metal=18k-rose-gold&max_price=1000")
    assert combined == ["orbit-hoops"]
    assert await _slugs(client, "category=rings&metal=platinum&max_price=1000") == [
        "classic-court-band-3mm",
        "classic-court-band-5mm",
    ]
    for bad in (
        "min_price=-1",
        "min_price=abc",
        "max_price=1.234",
        "min_price=5&max_price=1",
        "sort=cheapest",
    ):
        response = await client.get(f"/api/products?{bad}")
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"


async def test_sorts_page_through_every_product_once(client: AsyncClient) -> None:
    ascending = await _list(client, "sort=price_asc&limit=100")
    prices = [float(i["base_price"]["amount"]) for i in ascending["items"]]
    assert prices == sorted(prices)
    descending = await _slugs(client, "sort=price_desc&limit=100")
    assert descending[0] == "pink-diamond-cocktail-ring"
    featured = await _slugs(client, "sort=featured&limit=100")
    assert set(featured[:4]) == {
        "aurora-solitaire",
        "riviera-tennis-bracelet",
        "kashmir-sapphire-necklace",
        "pink-diamond-cocktail-ring",
    }
    for sort in ("price_asc", "price_desc", "newest", "featured", "popular"):
        seen: list[str] = []
        cursor = ""
        while True:
            page = await _list(client, f"sort={sort}&limit=5{cursor}")
            seen += [i["slug"] for i in page["items"]]
            if page["next_cursor"] is None:
                break
            cursor = f"&cursor={page['next_cursor']}"
        assert len(seen) == 18 == len(set(seen)), sort
    other = (await _list(client, "sort=price_asc&limit=5"))["next_cursor"]
    assert (await client.get(f"/api/products?sort=newest&cursor={other}")).status_code == 422


async def test_popular_means_most_viewed_in_the_last_30_days(
    app: FastAPI, client: AsyncClient
) -> None:
    for slug, views in (("orbit-hoops", 3), ("nova-pendant", 2)):
        for _ in range(views):
            response = await client.post("/api/analytics/track-view", json={"product_slug": slug})
            assert response.status_code == 202
    await app.state.view_buffer.flush()  # views are written in batches every 0.2 s
    app.state.catalog_cache.clear()  # the list is cached for 30 s at most
    popular = await _slugs(client, "sort=popular&limit=3")
    assert popular[:2] == ["orbit-hoops", "nova-pendant"]


async def test_facets_count_the_filtered_set(client: AsyncClient) -> None:
    everything = await _list(client, "limit=1")
    assert sum(_facet(everything, "collection").values()) == 18
    assert _facet(everything, "collection") == {"bespoke": 2, "bridal": 6, "fine": 6, "high": 4}
    bands = everything["facets"]["price_band"]
    assert sum(b["count"] for b in bands) == 18
    assert bands[0]["value"] == "under-1000"
    assert bands[0]["min_price"] == {"amount": "0.00", "currency": "GBP"}
    assert bands[-1]["max_price"] is None
    fine = await _list(client, "collection=fine&limit=1")
    assert _facet(fine, "collection") == {"fine": 6}
    assert _facet(fine, "category") == {
        "bracelets": 1,
        "earrings": 2,
        "necklaces": 1,
        "rings": 1,
        "studs": 1,
    }
    assert _facet(fine, "metal")["platinum"] >= 1
    assert sum(_facet(fine, "metal").values()) >= 6
    searched = await _list(client, "q=sapphire&limit=1")
    assert set(_facet(searched, "collection")) == {"high"}


async def test_category_documents_arrive_by_webhook(app: FastAPI, client: AsyncClient) -> None:
    new = {
        "_id": "category.signet-rings",
        "_rev": "rev-1",
        "_type": "category",
        "_updatedAt": "2025-11-01T09:00:00Z",
        "title": "Signet rings",
        "slug": {"_type": "slug", "current": "signet-rings"},
        "parent": {"_type": "reference", "_ref": "category.rings"},
    }
    assert (await deliver_webhook(client, new)).json()["status"] == "applied"
    signet = demo_document("product.signet-oval") | {
        "_rev": "rev-2",
        "category": {"_type": "reference", "_ref": "category.signet-rings"},
    }
    assert (await deliver_webhook(client, signet)).json()["status"] == "applied"

    async def moved() -> bool:
        return await _slugs(client, "category=signet-rings") == ["signet-oval"]

    await eventually(moved)
    tree = (await client.get("/api/categories")).json()["items"]
    assert [c["slug"] for c in tree[0]["children"]] == [
        "signet-rings",  # no sort order: 0, first
        "engagement-rings",
        "wedding-bands",
    ]
    assert tree[0]["product_count"] == 11  # still under rings
    gallery = (await client.get("/api/products/signet-oval")).json()["images"]
    assert gallery  # the webhook cannot resolve assets: the stored gallery is kept


def test_bad_sale_prices_and_certificates_are_refused() -> None:
    base = demo_document("product.orbit-hoops")
    for change in (
        {"compareAtPrice": 780},
        {"compareAtPrice": 100},
        {"compareAtPrice": "lots"},
        {"certificate": {"laboratory": "GIA"}},
        {
            "certificate": {
                **demo_document("product.pink-diamond-cocktail-ring")["certificate"],
                "carat": "two",
            }
        },
        {"sku": "has spaces"},
    ):
        with pytest.raises(InvalidDocumentError):
            normalize_document(base | change)


async def test_a_product_may_still_name_its_category_in_plain_text(
    app: FastAPI, client: AsyncClient
) -> None:
    doc = demo_document("product.nova-pendant") | {"_rev": "rev-x", "category": "pendants"}
    await apply_records(app, [normalize_document(doc)])

    async def listed() -> bool:
        return await _slugs(client, "category=pendants") == ["nova-pendant"]

    await eventually(listed)
