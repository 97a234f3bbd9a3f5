"""`elysium catalog sync` against a local HTTP server that answers like Sanity's query API."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import SecretStr

from catalog_helpers import SANITY_QUERY_PATH, SANITY_TOKEN, demo_documents, eventually
from elysium.catalog import sanity
from elysium.catalog.sync import SyncResult, sanity_client, sync_catalog
from elysium.config import Settings
from peers.http_server import QuietHandler, serving


@dataclass
class ContentLake:
    """The documents Sanity holds, queried the way SYNC_QUERY and IDS_QUERY ask."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    sync_requests: list[dict[str, Any]] = field(default_factory=list)

    def query(self, groq: str, params: dict[str, Any]) -> list[Any] | None:
        if groq == sanity.SYNC_QUERY:
            self.sync_requests.append(params)
            return [self._projected(d) for d in self._since(params)]
        if groq == sanity.IDS_QUERY:
            ids = sorted(d["_id"] for d in self._published(params["types"]))
            return [i for i in ids if i > params["lastId"]][: params["limit"]]
        return None

    def _published(self, types: list[str]) -> list[dict[str, Any]]:
        return [
            d
            for d in self.documents.values()
            if d["_type"] in types and not d["_id"].startswith(("drafts.", "versions."))
        ]

    def _since(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        after = (p["since"], p["lastId"])
        found = [d for d in self._published(p["types"]) if (d["_updatedAt"], d["_id"]) > after]
        return sorted(found, key=lambda d: (d["_updatedAt"], d["_id"]))[: p["limit"]]

    def _projected(self, doc: dict[str, Any]) -> dict[str, Any]:
        """What RESOLVING_PROJECTION adds: the referenced collection's and category's slugs,
        the main image URL and the gallery's assets."""
        if doc["_type"] != "product":
            return doc
        collection = self.documents.get(doc["collection"]["_ref"], {})
        category = doc.get("category")
        ref = category.get("_ref", "") if isinstance(category, dict) else ""
        assets = [self.documents.get(i["asset"]["_ref"], {}) for i in doc["images"]]
        return doc | {
            sanity.RESOLVED_COLLECTION_SLUG: collection.get("slug", {}).get("current"),
            sanity.RESOLVED_IMAGE_URL: assets[0].get("url"),
            sanity.RESOLVED_CATEGORY_SLUG: self.documents.get(ref, {})
            .get("slug", {})
            .get("current"),
            sanity.RESOLVED_GALLERY: [
                {
                    "assetId": i["asset"]["_ref"],
                    "url": a.get("url"),
                    "width": a["metadata"]["dimensions"]["width"],
                    "height": a["metadata"]["dimensions"]["height"],
                }
                for i, a in zip(doc["images"], assets, strict=True)
            ],
        }

    def edit(self, sanity_id: str, **changes: Any) -> None:
        self.documents[sanity_id] = self.documents[sanity_id] | changes


class _Handler(QuietHandler):
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        params = {k[1:]: json.loads(v) for k, v in query.items() if k.startswith("$")}
        result = None
        if (
            url.path == SANITY_QUERY_PATH
            and self.headers.get("Authorization") == f"Bearer {SANITY_TOKEN}"
        ):
            result = self.server.lake.query(query.get("query", ""), params)
        status = 400 if result is None else 200
        body = json.dumps({"result": result, "ms": 1, "query": query.get("query")}).encode()
        self.reply(status, body)


class _Server(ThreadingHTTPServer):
    lake: ContentLake


@pytest.fixture
def lake() -> Iterator[tuple[ContentLake, str]]:
    """The demo dataset served on a free local port."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.lake = ContentLake(
        {d["_id"]: {"_updatedAt": "2025-09-01T08:00:00Z"} | d for d in demo_documents()}
    )
    with serving(server) as url:
        yield server.lake, url


def _sanity_settings(settings: Settings, base_url: str) -> Settings:
    return settings.model_copy(
        update={
            "sanity_project_id": "elysium",
            "sanity_token": SecretStr(SANITY_TOKEN),
            "sanity_api_base": base_url,
        }
    )


async def _sync(app: FastAPI, settings: Settings) -> SyncResult:
    async with (
        sanity_client(settings) as client,
        app.state.sessionmaker() as session,
        session.begin(),
    ):
        return await sync_catalog(session, client, batch_size=7)


async def test_first_sync_loads_everything_published(
    app: FastAPI, client: AsyncClient, settings: Settings, lake: tuple[ContentLake, str]
) -> None:
    content, url = lake
    result = await _sync(app, _sanity_settings(settings, url))
    assert (result.applied.collections, result.applied.products, result.deleted) == (4, 18, 0)
    assert result.applied.categories == 7
    assert result.errors == []
    assert content.sync_requests[0]["since"] == ""
    items = (await client.get("/api/products?limit=100")).json()["items"]
    assert len(items) == 18
    aurora = next(i for i in items if i["slug"] == "aurora-solitaire")
    assert aurora["collection"] == "bridal"
    assert aurora["image"].startswith("https://cdn.sanity.io/")
    assert aurora["base_price"]["amount"] == "3950.00"  # not the draft's price
    celeste = (await client.get("/api/products/celeste-halo")).json()
    assert celeste["category"] == "engagement-rings"
    assert [(i["width"], i["height"]) for i in celeste["images"]] == [(1600, 1600), (1600, 1200)]
    rings = (await client.get("/api/categories")).json()["items"][0]
    assert (rings["slug"], rings["product_count"]) == ("rings", 11)


async def test_second_sync_is_incremental_and_soft_deletes_what_is_gone(
    app: FastAPI, client: AsyncClient, settings: Settings, lake: tuple[ContentLake, str]
) -> None:
    content, url = lake
    sanity_settings = _sanity_settings(settings, url)
    await _sync(app, sanity_settings)
    assert (await client.get("/api/products/orbit-hoops")).status_code == 200
    unchanged = await _sync(app, sanity_settings)
    assert unchanged.applied.products == unchanged.deleted == 0
    assert content.sync_requests[-1]["since"] == "2025-10-01T09:00:00Z"

    content.edit(
        "product.aurora-solitaire",
        title="Aurora Solitaire",
        _rev="rev-aurora-2",
        _updatedAt="2025-11-02T10:00:00Z",
    )
    del content.documents["product.orbit-hoops"]
    result = await _sync(app, sanity_settings)
    assert (result.applied.products, result.deleted) == (1, 1)

    async def applied() -> bool:
        aurora = await client.get("/api/products/aurora-solitaire")
        orbit = await client.get("/api/products/orbit-hoops")
        return aurora.json()["title"] == "Aurora Solitaire" and orbit.status_code == 404

    await eventually(applied)
    third = await _sync(app, sanity_settings)
    assert content.sync_requests[-1]["since"] == "2025-11-02T10:00:00Z"
    assert third.fetched == 1  # only what changed at or after the newest stored update
    assert (third.applied.products, third.deleted) == (0, 0)


async def test_an_unpriceable_document_is_reported_and_skipped(
    app: FastAPI, client: AsyncClient, settings: Settings, lake: tuple[ContentLake, str]
) -> None:
    content, url = lake
    content.edit("product.nova-pendant", basePrice=-5)
    result = await _sync(app, _sanity_settings(settings, url))
    assert result.applied.products == 17
    assert len(result.errors) == 1
    assert result.errors[0].startswith("product.nova-pendant")
    assert (await client.get("/api/products/nova-pendant")).status_code == 404


@pytest.mark.slow  # runs the real `elysium` command twice
async def test_sync_command_reports_counts(
    app: FastAPI, settings: Settings, lake: tuple[ContentLake, str]
) -> None:
    _, url = lake
    env = os.environ | {
        "DATABASE_URL": str(settings.database_url),
        "SANITY_PROJECT_ID": "elysium",
        "SANITY_TOKEN": SANITY_TOKEN,
        "SANITY_API_BASE": url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "elysium.cli", "catalog", "sync",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "changed 4 collections and 18 products; deleted 0" in out.decode()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "elysium.cli", "catalog", "sync",
        env=env | {"SANITY_TOKEN": "wrong"}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 1
    assert "error:" in err.decode()
