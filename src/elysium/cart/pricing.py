"""A cart priced when it is read: every line through the price engine, never a stored price.

A line that can no longer be priced (the piece was withdrawn or its configuration is no longer
offered) stays in the cart, unpriced and unavailable, and is left out of the subtotal.
Availability compares stock with the quantity of *all* lines of the same variant (two engravings
of one ring draw on the same stock).

A read is one statement: the lines with plain columns of their products and the stock of their
stored variants (`catalog.service.price_stored` remembers the price engine's outcome per product
revision and configuration; whether the piece is still offered, and the stock, are read every
time).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from sqlalchemy import ColumnElement, Row, Select, any_, bindparam, cast, select
from sqlalchemy import Text as SqlText
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from elysium.catalog.pricing import PricedConfiguration
from elysium.catalog.service import LineProduct, line_product, line_product_columns, price_stored
from elysium.db import table_of
from elysium.errors import ValidationFailedError
from elysium.inventory.service import available_from, available_quantities, free_units
from elysium.kit.batching import Batcher
from elysium.kit.clock import utcnow
from elysium.kit.vat import VatTreatment, charged
from elysium.models import Cart, CartItem, Product
from elysium.promotions.service import DiscountLine, DiscountResult, evaluate_coupon

VariantRef = tuple[uuid.UUID, str]


@dataclass(frozen=True, slots=True)
class CartLine:
    """A stored cart line, read as plain values (no ORM object: the cart's reads only read)."""

    id: uuid.UUID
    configuration_json: str  # the stored jsonb as PostgreSQL renders it
    variant_key: str  # as stored when the line was added (pricing may name another now)
    quantity: int

    @property
    def configuration(self) -> dict[str, Any]:
        """The stored configuration (decoded; only needed for a line that cannot be priced)."""
        value: dict[str, Any] = json.loads(self.configuration_json)
        return value


@dataclass(frozen=True, slots=True)
class LoadedLines:
    """A cart's lines with their products, oldest first, and the units available of each
    line's stored variant when they were read in the same statement (else empty)."""

    rows: list[tuple[CartLine, LineProduct]]
    stock: dict[VariantRef, int | None]


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A cart line with today's price and availability."""

    item: CartLine
    product: LineProduct
    priced: PricedConfiguration | None
    available: bool
    problem: str | None
    treatment: VatTreatment = VatTreatment.STANDARD

    @property
    def variant_key(self) -> str:
        return self.item.variant_key if self.priced is None else self.priced.variant_key

    @property
    def unit_price_pence(self) -> int | None:
        """The unit price charged under the cart's VAT treatment (net for an export)."""
        return (
            None if self.priced is None else charged(self.priced.unit_price_pence, self.treatment)
        )

    @property
    def line_total_pence(self) -> int | None:
        unit = self.unit_price_pence
        return None if unit is None else unit * self.item.quantity

    @property
    def uk_line_total_pence(self) -> int | None:
        return None if self.priced is None else self.priced.unit_price_pence * self.item.quantity


@dataclass(frozen=True, slots=True)
class PricedCart:
    """Every line priced, the subtotal of the priced ones and the coupon's discount."""

    cart_id: uuid.UUID | None
    coupon_code: str | None
    lines: list[PricedLine]
    subtotal_pence: int
    discount: DiscountResult | None
    coupon_problem: str | None
    treatment: VatTreatment = VatTreatment.STANDARD

    @property
    def discount_pence(self) -> int:
        """Never more than the subtotal (a net discount may round a penny above it)."""
        return (
            0 if self.discount is None else min(self.discount.discount_pence, self.subtotal_pence)
        )


# Core statements over plain columns, built once: no ORM objects are made for a read, and the
# Sanity document, description and search vector of a product are never loaded.
_CARTS, _ITEMS = table_of(Cart), table_of(CartItem)
_LINE_COLUMNS = (
    _ITEMS.c.id,
    cast(_ITEMS.c.configuration, SqlText),
    _ITEMS.c.variant_key,
    _ITEMS.c.quantity,
    *line_product_columns(),
)
_PRODUCT_AT = 4  # where the product's columns start in a line's row
_FREE_UNITS = free_units(_ITEMS.c.product_id, _ITEMS.c.variant_key)
_ORDER = (_ITEMS.c.created_at, _ITEMS.c.id)
_PRODUCTS = table_of(Product)


def _lines_query(with_stock: bool) -> Select[Any]:
    columns = (*_LINE_COLUMNS, _FREE_UNITS) if with_stock else _LINE_COLUMNS
    return (
        select(*columns)
        .select_from(_ITEMS.join(_PRODUCTS, _PRODUCTS.c.id == _ITEMS.c.product_id))
        .where(_ITEMS.c.cart_id == bindparam("cart_id"))
        .order_by(*_ORDER)
    )


_LINES = {True: _lines_query(with_stock=True), False: _lines_query(with_stock=False)}


def _cart_query(owner: ColumnElement[Any], owned_by: ColumnElement[bool]) -> Select[Any]:
    """Carts with their lines, products and stock in one statement: one row per line (or a
    single row with NULL line columns for an empty cart), each led by its cart's `owner`."""
    return (
        select(owner, _CARTS.c.id, _CARTS.c.coupon_code, *_LINE_COLUMNS, _FREE_UNITS)
        .select_from(
            _CARTS.outerjoin(_ITEMS, _ITEMS.c.cart_id == _CARTS.c.id).outerjoin(
                _PRODUCTS, _PRODUCTS.c.id == _ITEMS.c.product_id
            )
        )
        .where(owned_by)
        .order_by(owner, *_ORDER)
    )


_USERS_CARTS_WITH_LINES = _cart_query(
    _CARTS.c.user_id, _CARTS.c.user_id == any_(cast(bindparam("user_ids"), ARRAY(PgUUID)))
)
_GUESTS_CARTS_WITH_LINES = _cart_query(
    _CARTS.c.token_hash,
    (_CARTS.c.token_hash == any_(cast(bindparam("token_hashes"), ARRAY(SqlText))))
    & (_CARTS.c.expires_at > bindparam("now")),
)


def _loaded(rows: Sequence[Row[Any]], at: int, with_stock: bool) -> LoadedLines:
    """Lines from rows whose line columns start at `at` (free units last, when read)."""
    lines, stock = [], {}
    for row in rows:
        product = line_product(row[at + _PRODUCT_AT :])
        line = CartLine(row[at], row[at + 1], row[at + 2], row[at + 3])
        lines.append((line, product))
        if with_stock:
            stock[(product.id, line.variant_key)] = available_from(product.made_to_order, row[-1])
    return LoadedLines(lines, stock)


async def load_lines(
    session: AsyncSession, cart_id: uuid.UUID, *, with_stock: bool = True
) -> LoadedLines:
    """The cart's lines with their products (and their stored variants' stock), oldest first."""
    params: dict[str, object] = {"cart_id": cart_id}
    if with_stock:
        params["now"] = utcnow()
    rows = (await session.execute(_LINES[with_stock], params)).all()
    return _loaded(rows, 0, with_stock)


@dataclass(frozen=True, slots=True)
class CartWithLines:
    """A cart read with its lines in one statement."""

    cart_id: uuid.UUID
    coupon_code: str | None
    lines: LoadedLines


CartKey = tuple[uuid.UUID | None, str | None]
"""Whose cart: (the user's id, None), or (None, a guest cart token's hash)."""


def _carts(rows: Sequence[Any]) -> dict[object, CartWithLines]:
    """Rows of `_cart_query` (ordered by owner) as each owner's cart."""
    by_owner: dict[object, list[Any]] = {}
    for row in rows:
        by_owner.setdefault(row[0], []).append(row)
    return {
        owner: CartWithLines(
            own[0][1], own[0][2], _loaded([r for r in own if r[3] is not None], 3, True)
        )
        for owner, own in by_owner.items()
    }


class CartReads:
    """Carts with their lines, products and stock, read for GET /api/cart. The reads made
    while one is under way go together (`kit.batching`): one statement for the users' carts
    and one for the guests', on `database` (an autocommit engine: they only read)."""

    def __init__(self, database: AsyncEngine) -> None:
        self.database = database
        self._batches: Batcher[CartKey, CartWithLines | None] = Batcher(self._read)

    async def load(
        self, *, user_id: uuid.UUID | None, token_hash: str | None
    ) -> CartWithLines | None:
        """The user's cart (else the unexpired guest cart of `token_hash`); None if none."""
        if user_id is None and token_hash is None:
            return None
        return await self._batches.submit((user_id, None if user_id else token_hash))

    async def _read(self, keys: list[CartKey]) -> list[CartWithLines | None]:
        user_ids = sorted({user for user, _ in keys if user is not None})
        hashes = sorted({token for user, token in keys if user is None and token is not None})
        found: dict[object, CartWithLines] = {}
        now = utcnow()
        async with self.database.connect() as connection:
            if user_ids:
                params = {"user_ids": user_ids, "now": now}
                found |= _carts((await connection.execute(_USERS_CARTS_WITH_LINES, params)).all())
            if hashes:
                params = {"token_hashes": hashes, "now": now}
                found |= _carts((await connection.execute(_GUESTS_CARTS_WITH_LINES, params)).all())
        return [found.get(user if user is not None else token) for user, token in keys]


async def _stock(
    session: AsyncSession, wanted: dict[VariantRef, LineProduct]
) -> dict[VariantRef, int | None]:
    """Units available per variant, in one query."""
    refs = list(wanted)
    units = await available_quantities(session, [(wanted[ref], ref[1]) for ref in refs])
    return dict(zip(refs, units, strict=True))


async def price_lines(
    session: AsyncSession,
    loaded: LoadedLines,
    *,
    check_stock: bool = True,
    treatment: VatTreatment = VatTreatment.STANDARD,
) -> list[PricedLine]:
    """Price every line and (unless told not to) decide whether there is stock for it.

    The stock read with the lines is that of each line's stored variant; a variant only
    pricing names now (the product's options changed since) is looked up on its own."""
    rows = loaded.rows
    outcomes = [price_stored(product, item.configuration_json) for item, product in rows]
    demand: Counter[VariantRef] = Counter()
    missing: dict[VariantRef, LineProduct] = {}
    for (item, product), outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, PricedConfiguration):
            ref = (product.id, outcome.variant_key)
            demand[ref] += item.quantity
            if check_stock and ref not in loaded.stock:
                missing[ref] = product
    stock = (loaded.stock | await _stock(session, missing)) if missing else loaded.stock
    lines = []
    for (item, product), outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, str):
            lines.append(PricedLine(item, product, None, False, outcome, treatment))
            continue
        ref = (product.id, outcome.variant_key)
        units = stock.get(ref) if check_stock else None
        enough = units is None or units >= demand[ref]
        problem = None if enough else f"Only {max(units or 0, 0)} available."
        lines.append(PricedLine(item, product, outcome, enough, problem, treatment))
    return lines


def discount_lines(lines: list[PricedLine]) -> list[DiscountLine]:
    """The priced lines as a coupon sees them."""
    return [
        DiscountLine(line.product.collection_slug, total, line.line_total_pence)
        for line in lines
        if (total := line.uk_line_total_pence) is not None
    ]


async def price_cart(
    session: AsyncSession,
    cart: Cart | None,
    user_id: uuid.UUID | None,
    treatment: VatTreatment = VatTreatment.STANDARD,
) -> PricedCart:
    """The cart priced now under `treatment` (its lines read afresh)."""
    if cart is None:
        return await price_loaded(session, None, user_id, treatment)
    loaded = CartWithLines(cart.id, cart.coupon_code, await load_lines(session, cart.id))
    return await price_loaded(session, loaded, user_id, treatment)


async def price_loaded(
    session: AsyncSession,
    cart: CartWithLines | None,
    user_id: uuid.UUID | None,
    treatment: VatTreatment = VatTreatment.STANDARD,
) -> PricedCart:
    """A cart read with its lines, priced now under `treatment`; a coupon that no longer
    applies gives nothing and says why."""
    lines = [] if cart is None else await price_lines(session, cart.lines, treatment=treatment)
    subtotal = sum(line.line_total_pence or 0 for line in lines)
    discount, problem = None, None
    if cart is not None and cart.coupon_code:
        try:
            discount = await evaluate_coupon(
                session,
                cart.coupon_code,
                user_id=user_id,
                lines=discount_lines(lines),
                treatment=treatment,
            )
        except ValidationFailedError as exc:
            problem = exc.detail
    cart_id, code = (None, None) if cart is None else (cart.cart_id, cart.coupon_code)
    return PricedCart(cart_id, code, lines, subtotal, discount, problem, treatment)


def install_cart_reads(app: FastAPI) -> None:
    """Give the app its `CartReads`, on the autocommit engine, once the engine exists."""

    async def start(app: FastAPI) -> None:
        app.state.cart_reads = CartReads(app.state.autocommit_engine)

    app.state.startup_hooks.append(start)


async def get_cart_reads(request: Request) -> CartReads:
    reads: CartReads = request.app.state.cart_reads
    return reads


CartReadsDep = Annotated[CartReads, Depends(get_cart_reads)]
