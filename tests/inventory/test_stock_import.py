"""`elysium inventory import FILE.csv` and the importer behind it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from elysium.catalog.importer import apply_sanity_documents
from elysium.catalog.sanity import parse_ndjson_export
from elysium.config import Settings
from elysium.demo import DEMO_CATALOGUE, DEMO_STOCK
from elysium.inventory.service import import_stock_csv
from elysium.models import StockItem, StockMovement
from factories import HALF_CARAT_KEY, ONE_CARAT_KEY, create_product
from inventory_helpers import hold, line, stock_row
from live_server import run_elysium


async def _load_demo_catalogue(app: FastAPI) -> None:
    with DEMO_CATALOGUE.open(encoding="utf-8") as lines:
        batch = parse_ndjson_export(lines)
    async with app.state.sessionmaker() as session, session.begin():
        await apply_sanity_documents(session, [*batch.collections, *batch.products])


async def _elysium(settings: Settings, *args: str) -> tuple[int, str, str]:
    return await run_elysium(str(settings.database_url), *args)


async def _counts(app: FastAPI) -> tuple[int, int, int]:
    async with app.state.sessionmaker() as session:
        items = await session.scalar(select(func.count()).select_from(StockItem))
        units = await session.scalar(select(func.sum(StockItem.stock_level)))
        moves = await session.scalar(select(func.count()).select_from(StockMovement))
    return items or 0, units or 0, moves or 0


@pytest.mark.slow  # runs the real `elysium` command twice
async def test_demo_stock_imports_cleanly_and_again_changes_nothing(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    await _load_demo_catalogue(app)
    with DEMO_STOCK.open(encoding="utf-8", newline="") as rows:
        expected = list(csv.DictReader(rows))
    code, out, err = await _elysium(settings, "inventory", "import", str(DEMO_STOCK))
    assert code == 0, err
    assert f"read {len(expected)} rows: {len(expected)} changed, 0 unchanged, 0 refused" in out
    first = await _counts(app)
    assert first[:2] == (len(expected), sum(int(r["stock_level"]) for r in expected))
    code, out, _ = await _elysium(settings, "inventory", "import", str(DEMO_STOCK))
    assert code == 0
    assert f"0 changed, {len(expected)} unchanged" in out
    assert await _counts(app) == first
    sample = expected[0]
    body = (await client.get(f"/api/inventory/{sample['product_slug']}")).json()
    variant = next(v for v in body["variants"] if v["variant_key"] == sample["variant_key"])
    assert variant["available"] == int(sample["stock_level"])


async def test_bad_rows_are_reported_by_line_and_good_rows_applied(app: FastAPI) -> None:
    product = await create_product(app, slug="aurora")
    bespoke = await create_product(app, slug="bespoke", made_to_order=True)
    rows = [
        {"product_slug": "aurora", "variant_key": "metal=platinum;carat=0.50", "stock_level": "4"},
        {"product_slug": "nowhere", "variant_key": HALF_CARAT_KEY, "stock_level": "1"},
        {"product_slug": "aurora", "variant_key": "carat=0.50", "stock_level": "1"},
        {"product_slug": "aurora", "variant_key": ONE_CARAT_KEY, "stock_level": "-2"},
        {"product_slug": "aurora", "variant_key": ONE_CARAT_KEY, "stock_level": "²"},
        {"product_slug": "aurora", "variant_key": HALF_CARAT_KEY, "stock_level": "9"},
        {"product_slug": bespoke.slug, "variant_key": HALF_CARAT_KEY, "stock_level": "1"},
        {
            "product_slug": "aurora",
            "variant_key": ONE_CARAT_KEY,
            "stock_level": "2",
            "low_stock_threshold": "x",
        },
    ]
    async with app.state.sessionmaker() as session, session.begin():
        report = await import_stock_csv(session, rows)
    assert [line for line, _ in report.errors] == [3, 4, 5, 6, 7, 8, 9]
    assert "same variant as line 2" in report.errors[4].message
    assert (report.rows, report.changed) == (8, 1)
    assert (await stock_row(app, product, HALF_CARAT_KEY)).stock_level == 4


async def test_import_will_not_set_stock_below_what_is_reserved(app: FastAPI) -> None:
    product = await create_product(app)
    async with app.state.sessionmaker() as session, session.begin():
        await import_stock_csv(
            session,
            [{"product_slug": product.slug, "variant_key": HALF_CARAT_KEY, "stock_level": "3"}],
        )
    await hold(app, [line(product, HALF_CARAT_KEY, 2)])
    rows = [
        {"product_slug": product.slug, "variant_key": HALF_CARAT_KEY, "stock_level": "1"},
        {
            "product_slug": product.slug,
            "variant_key": ONE_CARAT_KEY,
            "stock_level": "1",
            "low_stock_threshold": "0",
        },
    ]
    async with app.state.sessionmaker() as session, session.begin():
        report = await import_stock_csv(session, rows)
    assert [(e.line, e.message) for e in report.errors] == [(2, "2 unit(s) are reserved")]
    assert (await stock_row(app, product, HALF_CARAT_KEY)).stock_level == 3
    other = await stock_row(app, product, ONE_CARAT_KEY)
    assert (other.stock_level, other.low_stock_threshold) == (1, 0)


@pytest.mark.slow  # runs the real `elysium` command
async def test_cli_exits_non_zero_when_rows_are_refused(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    await create_product(app, slug="aurora")
    file = tmp_path / "stock.csv"
    file.write_text(
        "product_slug,variant_key,stock_level,low_stock_threshold\n"
        f"aurora,{HALF_CARAT_KEY},2,1\nghost,{HALF_CARAT_KEY},2,1\n",
        encoding="utf-8",
    )
    code, out, err = await _elysium(settings, "inventory", "import", str(file))
    assert code == 1
    assert "1 changed" in out
    assert "skipped line 3: no product called 'ghost'" in err
