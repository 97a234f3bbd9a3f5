"""The bundled demo catalogue (data/demo) and its starting stock: a seeding use case over the
catalogue and inventory domains, run by `elysium demo` and `elysium run`."""

from __future__ import annotations

import csv
from dataclasses import dataclass

import structlog
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.catalog.importer import ApplyResult
from elysium.catalog.sync import import_ndjson
from elysium.config import get_settings
from elysium.db import create_engine, create_sessionmaker
from elysium.inventory.service import import_stock_csv
from elysium.migrate import bundled
from elysium.models import Product

DEMO_DIR = bundled("data/demo")
DEMO_CATALOGUE = DEMO_DIR / "elysium-demo.ndjson"
DEMO_STOCK = DEMO_DIR / "inventory.csv"
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DemoLoad:
    applied: ApplyResult
    stock_rows: int


async def load_demo(session: AsyncSession) -> DemoLoad:
    """Apply the demo catalogue, then its stock; running it again changes nothing."""
    with DEMO_CATALOGUE.open(encoding="utf-8") as lines:
        batch, applied = await import_ndjson(session, lines)
    if batch.errors:
        raise RuntimeError(f"the bundled demo catalogue is broken: {batch.errors[:3]}")
    with DEMO_STOCK.open(encoding="utf-8", newline="") as stock:
        rows = list(csv.DictReader(stock))
    return DemoLoad(applied, await _import_demo_stock(session, rows))


async def _import_demo_stock(session: AsyncSession, rows: list[dict[str, str]]) -> int:
    """Set the demo's starting stock through the inventory domain; returns rows that changed."""
    report = await import_stock_csv(session, rows, actor_id=None)
    if report.errors:
        raise RuntimeError(f"the bundled demo stock is broken: {report.errors[:3]}")
    return report.changed


async def load_demo_into(database_url: str, only_if_empty: bool) -> DemoLoad | None:
    """Load the demo in its own transaction; with `only_if_empty`, skip a non-empty catalogue."""
    engine = create_engine(get_settings(), database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            if only_if_empty and await session.scalar(select(exists(select(Product.id)))):
                return None
            return await load_demo(session)
    finally:
        await engine.dispose()


async def load_demo_if_empty(database_url: str) -> None:
    """What `elysium run` calls: the demo catalogue and stock when there are no products yet."""
    loaded = await load_demo_into(database_url, only_if_empty=True)
    if loaded is not None:
        log.info("demo.loaded", products=loaded.applied.products, stock_rows=loaded.stock_rows)
