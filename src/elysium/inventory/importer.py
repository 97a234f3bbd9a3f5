"""Importing stock levels from CSV (`product_slug,variant_key,stock_level,low_stock_threshold`).

Good rows are applied and bad ones reported with their line numbers (the header is line 1).
Levels are set, not added, so importing the same file again changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.catalog.cache import notify_catalog_changed
from elysium.catalog.pricing import InvalidVariantKeyError, canonical_variant_key
from elysium.catalog.service import product_spec
from elysium.inventory import stock
from elysium.inventory.schemas import MAX_UNITS
from elysium.inventory.stock import VariantRef
from elysium.kit.clock import utcnow
from elysium.models import Product, StockItem

CsvRow = Mapping[str, str | None]


class RowError(NamedTuple):
    line: int
    message: str


@dataclass(slots=True)
class ImportReport:
    """What an import did: rows read, rows that changed stock, and the rows refused."""

    rows: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _StockRow:
    line: int
    stock_level: int
    low_stock_threshold: int | None


class _RowRefusedError(ValueError):
    pass


async def import_stock_csv(
    session: AsyncSession, rows: Iterable[CsvRow], actor_id: uuid.UUID | None = None
) -> ImportReport:
    """Set stock levels (ledger `import`) and thresholds from CSV rows (`csv.DictReader`)."""
    numbered = list(enumerate(rows, start=2))
    report = ImportReport(rows=len(numbered))
    products = await _products(
        session, {(row.get("product_slug") or "").strip() for _, row in numbered}
    )
    wanted: dict[VariantRef, _StockRow] = {}
    for line, row in numbered:
        try:
            ref, parsed = _parse(line, row, products)
            if ref in wanted:
                raise _RowRefusedError(f"same variant as line {wanted[ref].line}")
            wanted[ref] = parsed
        except _RowRefusedError as exc:
            report.errors.append(RowError(line, str(exc)))
    items = await stock.ensure_and_lock_items(session, wanted.keys())
    for ref, parsed in wanted.items():
        await _apply(session, items[ref], parsed, report, actor_id)
    report.errors.sort()
    await session.flush()
    await notify_catalog_changed(session)  # `in_stock` on cached catalogue pages
    return report


async def _products(session: AsyncSession, slugs: set[str]) -> dict[str, Product]:
    found = await session.scalars(
        select(Product).where(Product.slug.in_(slugs), Product.deleted_at.is_(None))
    )
    return {product.slug: product for product in found}


def _parse(line: int, row: CsvRow, products: dict[str, Product]) -> tuple[VariantRef, _StockRow]:
    slug = (row.get("product_slug") or "").strip()
    product = products.get(slug)
    if product is None:
        raise _RowRefusedError(f"no product called {slug[:200]!r}")
    if product.made_to_order:
        raise _RowRefusedError(f"{slug} is made to order and not stock-limited")
    try:
        key = canonical_variant_key(product_spec(product), (row.get("variant_key") or "").strip())
    except InvalidVariantKeyError as exc:
        raise _RowRefusedError(f"variant_key: {exc}") from exc
    level = _units(row, "stock_level", required=True)
    assert level is not None
    return (product.id, key), _StockRow(line, level, _units(row, "low_stock_threshold"))


def _units(row: CsvRow, column: str, *, required: bool = False) -> int | None:
    raw = (row.get(column) or "").strip()
    if not raw and not required:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_UNITS:
        raise _RowRefusedError(f"{column} must be a whole number from 0 to {MAX_UNITS}")
    return int(raw)


async def _apply(
    session: AsyncSession,
    item: StockItem,
    row: _StockRow,
    report: ImportReport,
    actor_id: uuid.UUID | None,
) -> None:
    if row.stock_level < item.reserved:
        await stock.lapse_expired(session, [item], utcnow())
    if row.stock_level < item.reserved:
        report.errors.append(RowError(row.line, f"{item.reserved} unit(s) are reserved"))
        return
    threshold = row.low_stock_threshold
    changed = row.stock_level != item.stock_level or (
        threshold is not None and threshold != item.low_stock_threshold
    )
    if row.stock_level != item.stock_level:
        delta = row.stock_level - item.stock_level
        await stock.move(
            session, item, reason="import", delta=delta, actor_id=actor_id, note=f"line {row.line}"
        )
    if threshold is not None:
        item.low_stock_threshold = threshold
    report.changed += changed
    report.unchanged += not changed
