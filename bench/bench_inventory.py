"""Reservations per second through the inventory service, each its own committed transaction.

- spread:     32 concurrent reservers, 1 unit of a random one of 20 well-stocked variants
- basket:     32 concurrent reservers, 3-line baskets (random variants, random line order)
- last piece: 32 concurrent reservers on one variant holding 200 units, until sold out
              (must end with exactly 200 units held: no oversell, no deadlock)
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from harness import Result, save, scratch_database
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from elysium.catalog.pricing import product_spec_from_sanity
from elysium.config import Settings
from elysium.db import create_engine, create_sessionmaker
from elysium.errors import OutOfStockError
from elysium.inventory.importer import import_stock_csv
from elysium.inventory.reservations import ReservationLine, reserve
from elysium.models import Product, StockItem

CONCURRENCY = 32
SIZES = [f"{n}" for n in range(40, 60)]  # 20 variants
DURATION = 10.0
LAST_PIECE_UNITS = 200

Sessions = async_sessionmaker[AsyncSession]


def _document(slug: str) -> dict[str, object]:
    values = [{"value": s, "label": s, "priceDelta": 0} for s in SIZES]
    return {
        "_id": f"product.{slug}",
        "_type": "product",
        "slug": {"current": slug},
        "title": slug,
        "basePrice": 1200,
        "inventoryOptions": ["size"],
        "options": [{"name": "size", "label": "Size", "required": True, "values": values}],
    }


async def _product(sessions: Sessions, slug: str, units: dict[str, int]) -> Product:
    document = _document(slug)
    spec = product_spec_from_sanity(document).model_dump(mode="json")
    product = Product(
        sanity_id=document["_id"], slug=slug, title=slug, base_price_pence=120000,
        options=spec["options"], inventory_options=spec["inventory_options"],
        document=document, rev="1", sanity_updated_at=datetime.now(UTC),
    )  # fmt: skip
    async with sessions() as session, session.begin():
        session.add(product)
        await session.flush()
        rows = [
            {"product_slug": slug, "variant_key": f"size={size}", "stock_level": str(level)}
            for size, level in units.items()
        ]
        report = await import_stock_csv(session, rows)
        assert not report.errors, report.errors
    return product


async def _one(sessions: Sessions, lines: list[ReservationLine]) -> bool:
    async with sessions() as session, session.begin():
        try:
            await reserve(
                session, lines, owner_type="order", owner_id=uuid.uuid4(),
                expires_at=datetime.now(UTC) + timedelta(minutes=30),
                actor_id=None, reason="bench",
            )  # fmt: skip
        except OutOfStockError:
            return False
    return True


async def _drive(
    name: str, attempt: Callable[[int], Awaitable[bool]], stop: Callable[[], bool]
) -> tuple[Result, int]:
    latencies: list[float] = []
    held = 0
    counter = 0

    async def worker() -> None:
        nonlocal held, counter
        while not stop():
            counter += 1
            started = time.perf_counter()
            succeeded = await attempt(counter)  # not `held += await ...`: that loses updates
            held += succeeded
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - began
    return _result(name, latencies, len(latencies) - held, elapsed), held


def _result(name: str, latencies: list[float], refused: int, elapsed: float) -> Result:
    q = statistics.quantiles(sorted(latencies), n=100)
    return Result(
        name=name, concurrency=CONCURRENCY, requests=len(latencies), errors=refused,
        seconds=round(elapsed, 2), rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(q[49] * 1000, 1), p95_ms=round(q[94] * 1000, 1), p99_ms=round(q[98] * 1000, 1),
    )  # fmt: skip


def _for(seconds: float) -> Callable[[], bool]:
    deadline = time.perf_counter() + seconds
    return lambda: time.perf_counter() >= deadline


async def _run(url: str) -> None:
    settings = Settings(_env_file=None, db_pool_size=CONCURRENCY, db_max_overflow=0)  # type: ignore[call-arg]
    engine = create_engine(settings, url)
    sessions = create_sessionmaker(engine)
    stocked = await _product(sessions, "bench-ring", dict.fromkeys(SIZES, 1_000_000))
    keys = [f"size={s}" for s in SIZES]
    rng = random.Random(1)

    def single(_: int) -> Awaitable[bool]:
        line = ReservationLine(stocked.id, rng.choice(keys), 1, stocked.slug)
        return _one(sessions, [line])

    def basket(_: int) -> Awaitable[bool]:
        lines = [ReservationLine(stocked.id, k, 1, stocked.slug) for k in rng.sample(keys, 3)]
        return _one(sessions, lines)

    results = [(await _drive("reserve: 1 of 20 variants", single, _for(DURATION)))[0]]
    results.append((await _drive("reserve: 3-line baskets", basket, _for(DURATION)))[0])
    scarce = await _product(sessions, "bench-last-piece", {SIZES[0]: LAST_PIECE_UNITS})
    last = ReservationLine(scarce.id, f"size={SIZES[0]}", 1, scarce.slug)
    sold_out = False

    async def last_piece(_: int) -> bool:
        nonlocal sold_out
        held = await _one(sessions, [last])
        sold_out = sold_out or not held
        return held

    result, held = await _drive("reserve: last pieces (200 units)", last_piece, lambda: sold_out)
    results.append(result)
    async with sessions() as session:
        reserved = await session.scalar(
            select(func.sum(StockItem.reserved)).where(StockItem.product_id == scarce.id)
        )
    assert held == reserved == LAST_PIECE_UNITS, (held, reserved)
    save(results, "inventory")
    print(f"last piece: {held} held of {LAST_PIECE_UNITS}, {result.errors} refused, no oversell")
    await engine.dispose()


def main() -> None:
    with scratch_database() as url:
        asyncio.run(_run(url))


if __name__ == "__main__":
    main()
