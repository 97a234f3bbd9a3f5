"""`elysium catalog import` and `elysium demo`: counts, idempotence, broken lines, drafts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from catalog_helpers import demo_document, eventually
from elysium.catalog.importer import soft_delete_documents
from elysium.config import Settings
from elysium.demo import DEMO_CATALOGUE
from elysium.models import Collection, Product
from live_server import run_elysium

pytestmark = pytest.mark.slow  # each test runs the real `elysium` command (3-15 s)


async def _elysium(settings: Settings, *args: str) -> tuple[int, str, str]:
    return await run_elysium(str(settings.database_url), *args)


async def _stored(app: FastAPI) -> tuple[int, int, list[object]]:
    async with app.state.sessionmaker() as session:
        products = await session.scalar(select(func.count()).select_from(Product))
        collections = await session.scalar(select(func.count()).select_from(Collection))
        stamps = (await session.scalars(select(Product.updated_at).order_by(Product.slug))).all()
    return products or 0, collections or 0, list(stamps)


async def test_import_then_reimport_changes_nothing(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    code, out, _ = await _elysium(settings, "catalog", "import", str(DEMO_CATALOGUE))
    assert code == 0
    assert "read 4 collections and 18 products (1 drafts skipped)" in out
    assert "changed 4 collections and 18 products" in out
    before = await _stored(app)
    assert before[:2] == (18, 4)
    code, out, err = await _elysium(settings, "catalog", "import", str(DEMO_CATALOGUE))
    assert code == 0, err
    assert "changed 0 collections and 0 products" in out
    assert await _stored(app) == before
    assert len((await client.get("/api/products?limit=100")).json()["items"]) == 18


async def test_drafts_are_not_imported(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    await _elysium(settings, "catalog", "import", str(DEMO_CATALOGUE))
    aurora = (await client.get("/api/products/aurora-solitaire")).json()
    assert aurora["base_price"]["amount"] == "3950.00"  # the draft says 1.00
    async with app.state.sessionmaker() as session:
        ids = (await session.scalars(select(Product.sanity_id))).all()
    assert not any(i.startswith("drafts.") for i in ids)


async def test_malformed_lines_are_reported_by_number_and_skipped(
    app: FastAPI, client: AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    bad_price = demo_document("product.nova-pendant") | {"basePrice": "lots"}
    lines = [
        json.dumps(demo_document("collection.fine")),
        json.dumps(demo_document("product.orbit-hoops")),
        '{"_id": "product.broken", "_type": "product", ',
        json.dumps(bad_price),
        json.dumps({"_type": "product", "title": "No id"}),
    ]
    export = tmp_path / "export.ndjson"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = await _elysium(settings, "catalog", "import", str(export))
    assert code == 1
    assert "changed 1 collections and 1 products" in out
    assert "skipped line 3: invalid JSON" in err
    assert "skipped line 4: product 'product.nova-pendant'" in err
    assert "skipped line 5: _id is missing" in err
    assert (await client.get("/api/products/orbit-hoops")).status_code == 200
    assert (await client.get("/api/products/nova-pendant")).status_code == 404
    assert (await _stored(app))[:2] == (1, 1)


async def test_reimport_undeletes_a_soft_deleted_product(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    await _elysium(settings, "catalog", "import", str(DEMO_CATALOGUE))
    async with app.state.sessionmaker() as session, session.begin():
        assert await soft_delete_documents(session, ["product.signet-oval"]) == 1
    assert (await client.get("/api/products/signet-oval")).status_code == 404
    code, out, err = await _elysium(settings, "catalog", "import", str(DEMO_CATALOGUE))
    assert code == 0, err
    assert "changed 0 collections and 1 products" in out

    async def back() -> bool:
        return (await client.get("/api/products/signet-oval")).status_code == 200

    await eventually(back)


async def test_demo_command_is_idempotent(app: FastAPI, settings: Settings) -> None:
    code, out, _ = await _elysium(settings, "demo")
    assert code == 0
    assert "changed 4 collections and 18 products" in out
    code, out, _ = await _elysium(settings, "demo")
    assert code == 0
    assert "changed 0 collections and 0 products" in out
    assert (await _stored(app))[:2] == (18, 4)


async def test_import_refuses_a_missing_file(settings: Settings, tmp_path: Path) -> None:
    code, _, err = await _elysium(settings, "catalog", "import", str(tmp_path / "nope.ndjson"))
    assert code == 2
    assert "does not exist" in err
