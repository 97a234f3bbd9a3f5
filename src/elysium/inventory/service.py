"""Inventory reads and staff stock control.

Other domains call `available_quantity`, `available_quantities`, `available_for_products` and
`variant_availability`; reservations live in `reservations.py` (re-exported here).
Availability is always `stock_level` minus the units of reservations that have not expired:
an expired reservation stops counting the moment it expires, whether or not the periodic job
has removed it yet (see `elysium.models.inventory`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, Row, ScalarSelect, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.catalog.cache import notify_catalog_changed
from elysium.catalog.pricing import (
    InvalidVariantKeyError,
    canonical_variant_key,
    parse_variant_key,
    variant_keys_for,
)
from elysium.catalog.service import Stockable, get_product, product_spec
from elysium.db import table_of
from elysium.errors import ConflictError, NotFoundError, ValidationFailedError
from elysium.inventory import stock
from elysium.inventory.importer import ImportReport, import_stock_csv
from elysium.inventory.reservations import (
    ReservationLine,
    convert_to_sale,
    expire_reservations,
    release,
    release_staff_holds,
    reserve,
)
from elysium.inventory.schemas import (
    MAX_UNITS,
    HoldRead,
    HoldReleaseRead,
    HoldRequest,
    InventoryRead,
    LowStockRead,
    MovementRead,
    StaffHoldRead,
    StaffInventoryRead,
    StockUpdate,
    ThresholdRequest,
    VariantAvailabilityRead,
    VariantStockRead,
)
from elysium.inventory.stock import VariantRef
from elysium.kit.clock import utcnow
from elysium.kit.pagination import Page, decode_cursor, encode_cursor
from elysium.models import Product, StockItem, StockMovement, StockReservation, User
from elysium.models.inventory import ReservationOwner

__all__ = [
    "ImportReport",
    "ReservationLine",
    "VariantStock",
    "available_for_products",
    "available_from",
    "available_quantities",
    "available_quantity",
    "convert_to_sale",
    "expire_reservations",
    "free_units",
    "import_stock_csv",
    "in_stock",
    "release",
    "reserve",
    "variant_availability",
]

DEFAULT_LOW_STOCK_THRESHOLD = 1
# product_id, variant_key, stock_level, reserved (unexpired holds), low_stock_threshold
StockRow = Row[uuid.UUID, str, int, int, int]


@dataclass(frozen=True, slots=True)
class ProductStock:
    """A product's variants with their stock, for the back office."""

    slug: str
    title: str
    variants: list[VariantStock]


@dataclass(frozen=True, slots=True)
class VariantStock:
    """One variant's stock; `available` is None for made-to-order (unlimited) pieces."""

    variant_key: str
    available: int | None
    in_stock: bool
    stock_level: int
    reserved: int
    low_stock_threshold: int


async def _stock_rows(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> Sequence[StockRow]:
    """(product_id, variant_key, stock_level, live reserved, threshold) per stock row."""
    return (
        await session.execute(
            select(
                StockItem.product_id,
                StockItem.variant_key,
                StockItem.stock_level,
                stock.live_reserved(utcnow()).label("reserved"),
                StockItem.low_stock_threshold,
            ).where(StockItem.product_id.in_(product_ids))
        )
    ).all()


async def available_quantities(
    session: AsyncSession, wanted: Sequence[tuple[Stockable, str | None]]
) -> list[int | None]:
    """Units available per (product, variant key); a None key sums every variant.

    None means unlimited (made to order); a variant without a stock row has 0.
    """
    limited = [p.id for p, _ in wanted if not p.made_to_order]
    per_variant: dict[VariantRef, int] = {}
    per_product: dict[uuid.UUID, int] = {}
    for row in await _stock_rows(session, limited) if limited else []:
        free = max(0, row.stock_level - row.reserved)
        per_variant[(row.product_id, row.variant_key)] = free
        per_product[row.product_id] = per_product.get(row.product_id, 0) + free
    return [
        None
        if product.made_to_order
        else per_product.get(product.id, 0)
        if key is None
        else per_variant.get((product.id, key), 0)
        for product, key in wanted
    ]


def free_units(
    product_id: ColumnElement[uuid.UUID], variant_key: ColumnElement[str]
) -> ScalarSelect[int]:
    """A column for another domain's query: the variant's stock level minus its unexpired
    holds at the bound parameter `now` (NULL without a stock row; may be negative). Pass it
    through `available_from` to get what `available_quantities` would answer. Core tables
    only, so the enclosing statement stays a plain Core one."""
    items, holds = table_of(StockItem), table_of(StockReservation)
    held = (
        select(func.coalesce(func.sum(holds.c.quantity), 0))
        .where(holds.c.stock_item_id == items.c.id, holds.c.expires_at > bindparam("now"))
        .correlate(items)
        .scalar_subquery()
    )
    return (
        select(items.c.stock_level - held)
        .where(items.c.product_id == product_id, items.c.variant_key == variant_key)
        .scalar_subquery()
    )


def available_from(made_to_order: bool, free: int | None) -> int | None:
    """Units available from a `free_units` value: None (unlimited) when made to order, 0
    without a stock row, never below 0."""
    return None if made_to_order else max(0, free or 0)


async def available_quantity(
    session: AsyncSession, product: Product, variant_key: str
) -> int | None:
    """Units of one variant available now; None for made-to-order (unlimited)."""
    return (await available_quantities(session, [(product, variant_key)]))[0]


async def in_stock(session: AsyncSession, product: Product, variant_key: str) -> bool:
    """True when at least one unit of the variant can be ordered."""
    units = await available_quantity(session, product, variant_key)
    return units is None or units > 0


async def available_for_products(
    session: AsyncSession, products: Sequence[Product]
) -> dict[uuid.UUID, bool]:
    """Whether each product has any variant in stock (made-to-order pieces always do)."""
    counts = await available_quantities(session, [(p, None) for p in products])
    return {p.id: count is None or count > 0 for p, count in zip(products, counts, strict=True)}


async def variant_availability(session: AsyncSession, product: Product) -> list[VariantStock]:
    """Every variant of the product in its spec's order, then any other key that has a stock row."""
    rows = {r.variant_key: r for r in await _stock_rows(session, [product.id])}
    keys = dict.fromkeys(variant_keys_for(product_spec(product))) | dict.fromkeys(sorted(rows))
    return [_variant_stock(product, key, rows.get(key)) for key in keys]


def _variant_stock(product: Product, key: str, row: StockRow | None) -> VariantStock:
    level, reserved = (row.stock_level, row.reserved) if row else (0, 0)
    threshold = row.low_stock_threshold if row else DEFAULT_LOW_STOCK_THRESHOLD
    available = None if product.made_to_order else max(0, level - reserved)
    return VariantStock(
        variant_key=key,
        available=available,
        in_stock=available is None or available > 0,
        stock_level=level,
        reserved=reserved,
        low_stock_threshold=threshold,
    )


async def product_inventory(
    session: AsyncSession, slug: str, *, staff: bool
) -> InventoryRead | StaffInventoryRead:
    """The per-variant availability of a product; staff also see levels and thresholds."""
    product = await get_product(session, slug)
    variants = await variant_availability(session, product)
    if staff:
        return StaffInventoryRead(
            product_slug=product.slug,
            made_to_order=product.made_to_order,
            variants=[VariantStockRead(**asdict(v)) for v in variants],
        )
    return InventoryRead(
        product_slug=product.slug,
        made_to_order=product.made_to_order,
        variants=[VariantAvailabilityRead(**asdict(v)) for v in variants],
    )


# --- staff stock control ----------------------------------------------------------------------


async def stocked_variant(
    session: AsyncSession, slug: str, raw_key: str, *, field: str | None = None
) -> tuple[Product, str]:
    """The live, stock-limited product and the canonical key of one of its variants.

    A malformed key is 422; a key naming no variant is 404 in a path (`field` None) and 422 in
    a body field. Made-to-order pieces have no stock to manage (422).
    """
    product = await get_product(session, slug)
    try:
        parse_variant_key(raw_key)
    except InvalidVariantKeyError as exc:
        raise _bad_key(field or "variant_key", "Malformed variant key.") from exc
    try:
        key = canonical_variant_key(product_spec(product), raw_key)
    except InvalidVariantKeyError as exc:
        if field is None:
            raise NotFoundError(f"{product.slug} has no variant {raw_key[:200]!r}.") from exc
        raise _bad_key(field, "Not a variant of this product.") from exc
    if product.made_to_order:
        raise ValidationFailedError("Made-to-order pieces are not stock-limited.")
    return product, key


def _bad_key(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(message, errors=[{"field": field, "message": message}])


async def update_stock(
    session: AsyncSession, slug: str, raw_key: str, change: StockUpdate, actor: User
) -> VariantStockRead:
    """Set or adjust a variant's stock (ledger `set`/`adjust`, audited).

    409 when the new level would fall below the units reserved (or below zero).
    """
    product, key = await stocked_variant(session, slug, raw_key)
    ref = (product.id, key)
    item = (await stock.ensure_and_lock_items(session, [ref]))[ref]
    before = item.stock_level
    target = change.stock_level if change.stock_level is not None else before + (change.adjust or 0)
    await _make_room(session, item, target)
    reason = "set" if change.stock_level is not None else "adjust"
    await stock.move(
        session, item, reason=reason, delta=target - before, actor_id=actor.id, note=change.reason
    )
    if change.low_stock_threshold is not None:
        item.low_stock_threshold = change.low_stock_threshold
    await session.flush()
    await record_event(
        session,
        f"inventory.stock_{reason}",
        actor_id=actor.id,
        target_type="stock_item",
        target_id=item.id,
        details={"product_slug": product.slug, "variant_key": key, "from": before, "to": target}
        | {"reason": change.reason, "low_stock_threshold": item.low_stock_threshold},
    )
    await notify_catalog_changed(session)  # `in_stock` on cached catalogue pages
    return VariantStockRead(
        **asdict(_variant_of(await variant_availability(session, product), key))
    )


async def _make_room(session: AsyncSession, item: StockItem, target: int) -> None:
    if target > MAX_UNITS:
        raise ValidationFailedError(f"Stock cannot exceed {MAX_UNITS} units.")
    if target < item.reserved:
        await stock.lapse_expired(session, [item], utcnow())
    if target < item.reserved:
        raise ConflictError(
            f"Stock cannot go below the {item.reserved} unit(s) reserved.",
            extra={"reserved": item.reserved},
        )


def _variant_of(variants: list[VariantStock], key: str) -> VariantStock:
    return next(v for v in variants if v.variant_key == key)


async def place_staff_hold(
    session: AsyncSession, body: HoldRequest, actor: User, hold_for: timedelta
) -> HoldRead:
    """Hold units for `hold_for` (owner: the member of staff); 409 when not enough are free."""
    product, key = await stocked_variant(
        session, body.product_slug, body.variant_key, field="variant_key"
    )
    line = ReservationLine(product.id, key, body.quantity, product.slug)
    [hold] = await reserve(
        session,
        [line],
        owner_type=ReservationOwner.STAFF,
        owner_id=actor.id,
        expires_at=utcnow() + hold_for,
        actor_id=actor.id,
        reason=body.reason,
    )
    await _audit_hold(session, "inventory.hold_placed", actor, product, key, body)
    return HoldRead(
        id=hold.id,
        product_slug=product.slug,
        variant_key=key,
        quantity=hold.quantity,
        reason=hold.reason,
        expires_at=hold.expires_at,
        available=await _available(session, product, key),
    )


async def release_staff_hold(
    session: AsyncSession, body: HoldRequest, actor: User
) -> HoldReleaseRead:
    """Release units of staff holds on a variant (oldest first); 409 when fewer are held."""
    product, key = await stocked_variant(
        session, body.product_slug, body.variant_key, field="variant_key"
    )
    await release_staff_holds(
        session, (product.id, key), body.quantity, actor_id=actor.id, reason=body.reason
    )
    await _audit_hold(session, "inventory.hold_released", actor, product, key, body)
    return HoldReleaseRead(
        product_slug=product.slug,
        variant_key=key,
        released=body.quantity,
        available=await _available(session, product, key),
    )


async def _available(session: AsyncSession, product: Product, key: str) -> int:
    return await available_quantity(session, product, key) or 0


async def _audit_hold(
    session: AsyncSession, action: str, actor: User, product: Product, key: str, body: HoldRequest
) -> None:
    await record_event(
        session,
        action,
        actor_id=actor.id,
        target_type="product",
        target_id=product.id,
        details={"variant_key": key, "quantity": body.quantity, "reason": body.reason},
    )


async def set_low_stock_threshold(
    session: AsyncSession, change: ThresholdRequest, actor: User
) -> VariantStockRead:
    """Set a variant's low-stock threshold with a reason (audited; the stock level is kept)."""
    product, key = await stocked_variant(
        session, change.product_slug, change.variant_key, field="variant_key"
    )
    ref = (product.id, key)
    item = (await stock.ensure_and_lock_items(session, [ref]))[ref]
    before = item.low_stock_threshold
    item.low_stock_threshold = change.low_stock_threshold
    await session.flush()
    await record_event(
        session,
        "inventory.threshold_set",
        actor_id=actor.id,
        target_type="stock_item",
        target_id=item.id,
        details={"product_slug": product.slug, "variant_key": key, "reason": change.reason}
        | {"from": before, "to": change.low_stock_threshold},
    )
    return VariantStockRead(
        **asdict(_variant_of(await variant_availability(session, product), key))
    )


# --- staff reports ----------------------------------------------------------------------------


async def low_stock(session: AsyncSession, limit: int, cursor: str | None) -> Page[LowStockRead]:
    """Stock-limited variants whose available units are at or below their threshold."""
    reserved = stock.live_reserved(utcnow())
    query = (
        select(Product.slug, StockItem, reserved.label("reserved"))
        .join(Product, Product.id == StockItem.product_id)
        .where(
            Product.deleted_at.is_(None),
            Product.made_to_order.is_(False),
            StockItem.stock_level - reserved <= StockItem.low_stock_threshold,
        )
        .order_by(Product.slug, StockItem.variant_key)
        .limit(limit + 1)
    )
    after = _string_cursor(cursor, 2)
    if after is not None:
        query = query.where(tuple_(Product.slug, StockItem.variant_key) > tuple(after))
    rows = (await session.execute(query)).all()
    items = [
        LowStockRead(
            product_slug=slug,
            variant_key=item.variant_key,
            stock_level=item.stock_level,
            reserved=live,
            available=max(0, item.stock_level - live),
            low_stock_threshold=item.low_stock_threshold,
        )
        for slug, item, live in rows[:limit]
    ]
    last = items[-1] if len(rows) > limit else None
    next_cursor = None if last is None else encode_cursor([last.product_slug, last.variant_key])
    return Page(items=items, next_cursor=next_cursor)


async def list_movements(
    session: AsyncSession, slug: str, limit: int, cursor: str | None
) -> Page[MovementRead]:
    """The product's stock ledger, newest first."""
    product = await get_product(session, slug)
    query = (
        select(StockMovement, StockItem.variant_key)
        .join(StockItem, StockItem.id == StockMovement.stock_item_id)
        .where(StockItem.product_id == product.id)
        .order_by(StockMovement.id.desc())
        .limit(limit + 1)
    )
    after = decode_cursor(cursor, 1)
    if after is not None:
        if not isinstance(after[0], int) or isinstance(after[0], bool):
            raise _bad_cursor()
        query = query.where(StockMovement.id < after[0])
    rows = (await session.execute(query)).all()
    items = [
        MovementRead.model_validate({**_columns(movement), "variant_key": key})
        for movement, key in rows[:limit]
    ]
    next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _columns(movement: StockMovement) -> dict[str, object]:
    return {c.key: getattr(movement, c.key) for c in StockMovement.__table__.columns}


def _string_cursor(cursor: str | None, size: int) -> list[str] | None:
    values = decode_cursor(cursor, size)
    if values is not None and not all(isinstance(v, str) and "\x00" not in v for v in values):
        raise _bad_cursor()
    return values


def _bad_cursor() -> ValidationFailedError:
    return _bad_key("cursor", "invalid cursor")


async def stock_overview(session: AsyncSession) -> list[ProductStock]:
    """Every live stock-limited product (by title) with each variant's stock, in two queries."""
    products = list(
        await session.scalars(
            select(Product)
            .where(Product.deleted_at.is_(None), Product.made_to_order.is_(False))
            .order_by(Product.title, Product.slug)
        )
    )
    rows: dict[uuid.UUID, dict[str, StockRow]] = {}
    for row in await _stock_rows(session, [p.id for p in products]) if products else []:
        rows.setdefault(row.product_id, {})[row.variant_key] = row
    overview = []
    for product in products:
        mine = rows.get(product.id, {})
        keys = dict.fromkeys(variant_keys_for(product_spec(product))) | dict.fromkeys(sorted(mine))
        variants = [_variant_stock(product, key, mine.get(key)) for key in keys]
        overview.append(ProductStock(product.slug, product.title, variants))
    return overview


async def list_staff_holds(session: AsyncSession, slug: str) -> list[StaffHoldRead]:
    """The live staff holds on a product's variants, oldest first."""
    product = await get_product(session, slug)
    rows = await session.execute(
        select(StockReservation, StockItem.variant_key)
        .join(StockItem, StockItem.id == StockReservation.stock_item_id)
        .where(
            StockItem.product_id == product.id,
            StockReservation.owner_type == ReservationOwner.STAFF,
            StockReservation.expires_at > utcnow(),
        )
        .order_by(StockReservation.created_at, StockReservation.id)
    )
    return [
        StaffHoldRead(
            id=hold.id,
            variant_key=key,
            quantity=hold.quantity,
            reason=hold.reason,
            held_by=hold.owner_id,
            expires_at=hold.expires_at,
        )
        for hold, key in rows
    ]
