"""Carts: who owns one, adding and changing lines, coupons, the merge at login, and the
functions checkout calls (`checkout_snapshot`, `empty_cart`).

Every write locks the cart row first (`SELECT ... FOR UPDATE`), so two writes to one cart queue
and the per-line and per-cart limits hold. A cart checks stock but holds none: stock is
reserved when the order is placed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.cart.pricing import (
    CartReads,
    PricedCart,
    PricedLine,
    discount_lines,
    load_lines,
    price_cart,
    price_lines,
    price_loaded,
)
from elysium.cart.schemas import CartItemCreate, CartItemRead, CartRead
from elysium.catalog.service import WITHDRAWN, is_live, price_product
from elysium.config import Settings
from elysium.db import autocommit_session, rows_affected
from elysium.errors import NotFoundError, OutOfStockError, ValidationFailedError
from elysium.inventory.service import available_quantity
from elysium.kit.clock import utcnow
from elysium.kit.money import Money
from elysium.kit.tokens import hash_token, new_token
from elysium.kit.vat import VatTreatment, charged, treatment_for, vat_of
from elysium.models import Cart, CartItem, CartReminder, Product
from elysium.models.cart import MAX_LINE_QUANTITY
from elysium.promotions.service import DiscountResult, evaluate_coupon
from elysium.shipping.service import HOME_COUNTRY, default_method, shipping_options

MAX_LINES = 50
GUEST_CART_DAYS = 30
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True, slots=True)
class CartOwner:
    """Who is asking: a signed-in user, or a guest holding (or not yet holding) a cart token."""

    user_id: uuid.UUID | None
    cart_token: str | None


@dataclass(frozen=True, slots=True)
class CartState:
    """A priced cart, plus the token when this request created a guest cart."""

    priced: PricedCart
    issued_token: str | None = None
    country: str | None = None


def _usable_token(token: str | None) -> str | None:
    return token if token and len(token) <= MAX_TOKEN_LENGTH else None


def _locked(stmt: Select[Cart]) -> Select[Cart]:
    return stmt.with_for_update().execution_options(populate_existing=True)


# Built once: carts are read on every cart request and every checkout.
_USER_CART = select(Cart).where(Cart.user_id == bindparam("user_id"))
_GUEST_CART = select(Cart).where(
    Cart.token_hash == bindparam("token_hash"), Cart.expires_at > bindparam("now")
)
_CART_QUERIES: dict[tuple[bool, bool], Select[Cart]] = {
    (True, False): _USER_CART,
    (True, True): _locked(_USER_CART),
    (False, False): _GUEST_CART,
    (False, True): _locked(_GUEST_CART),
}


async def _find_cart(session: AsyncSession, owner: CartOwner, *, lock: bool) -> Cart | None:
    params: dict[str, object]
    if owner.user_id is not None:
        params = {"user_id": owner.user_id}
    elif token := _usable_token(owner.cart_token):
        params = {"token_hash": hash_token(token), "now": utcnow()}
    else:
        return None
    stmt = _CART_QUERIES[(owner.user_id is not None, lock)]
    return await session.scalar(stmt, params)


async def _user_cart(session: AsyncSession, user_id: uuid.UUID) -> Cart:
    """The user's cart, created if needed, locked."""
    owner = CartOwner(user_id, None)
    cart = await _find_cart(session, owner, lock=True)
    if cart is None:
        await session.execute(
            insert(Cart).values(id=uuid.uuid4(), user_id=user_id).on_conflict_do_nothing()
        )
        cart = await _find_cart(session, owner, lock=True)
    assert cart is not None
    return cart


async def _writable_cart(session: AsyncSession, owner: CartOwner) -> tuple[Cart, str | None]:
    """The caller's cart, locked, created when missing; a new guest cart comes with its token."""
    if owner.user_id is not None:
        return await _user_cart(session, owner.user_id), None
    cart = await _find_cart(session, owner, lock=True)
    if cart is not None:
        cart.expires_at = utcnow() + timedelta(days=GUEST_CART_DAYS)
        return cart, None
    token = new_token()
    cart = Cart(token_hash=hash_token(token), expires_at=utcnow() + timedelta(days=GUEST_CART_DAYS))
    session.add(cart)
    await session.flush()
    return cart, token


async def _existing_cart(session: AsyncSession, owner: CartOwner) -> Cart:
    cart = await _find_cart(session, owner, lock=True)
    if cart is None:
        raise NotFoundError("There is no such item in your cart.")
    return cart


async def _items(session: AsyncSession, cart_id: uuid.UUID) -> list[CartItem]:
    rows = await session.scalars(select(CartItem).where(CartItem.cart_id == cart_id))
    return list(rows)


def _same_line(
    items: list[CartItem], product_id: uuid.UUID, configuration: dict[str, Any]
) -> CartItem | None:
    return next(
        (i for i in items if i.product_id == product_id and i.configuration == configuration),
        None,
    )


def _quantity_error(message: str) -> ValidationFailedError:
    return ValidationFailedError(message, errors=[{"field": "quantity", "message": message}])


async def _ensure_stock(
    session: AsyncSession, product: Product, variant_key: str, wanted: int
) -> None:
    """409 when the variant has fewer than `wanted` units available (made to order: never)."""
    units = await available_quantity(session, product, variant_key)
    if units is not None and units < wanted:
        raise OutOfStockError(
            f"Only {max(units, 0)} of this piece available; your cart would hold {wanted}.",
            extra={"available": max(units, 0)},
        )


def _variant_demand(items: list[CartItem], product_id: uuid.UUID, variant_key: str) -> int:
    return sum(
        i.quantity for i in items if i.product_id == product_id and i.variant_key == variant_key
    )


async def read_cart(reads: CartReads, owner: CartOwner, country: str | None = None) -> CartState:
    """The caller's cart priced now (an empty one when they have none yet), under the VAT
    treatment of delivery to `country` (the UK when none is given).

    The cart, its lines, their products and their stock come in one statement, shared with the
    other cart reads under way (`CartReads`); whatever else pricing reads (a coupon, a variant
    the catalogue renamed) is read in autocommit: a plain read, no BEGIN and COMMIT round
    trips, and each answer is what it was when read."""
    treatment = treatment_for(country or HOME_COUNTRY)
    token = _usable_token(owner.cart_token) if owner.user_id is None else None
    cart = await reads.load(
        user_id=owner.user_id, token_hash=None if token is None else hash_token(token)
    )
    async with autocommit_session(reads.database) as session:
        priced = await price_loaded(session, cart, owner.user_id, treatment)
    return CartState(priced, country=country)


async def add_item(session: AsyncSession, owner: CartOwner, data: CartItemCreate) -> CartState:
    """Add a configured piece; the same piece in the same configuration adds up on one line."""
    product, priced = await price_product(session, data.product_slug, data.configuration)
    cart, token = await _writable_cart(session, owner)
    items = await _items(session, cart.id)
    line = _same_line(items, product.id, priced.normalized_configuration)
    quantity = data.quantity + (line.quantity if line else 0)
    if quantity > MAX_LINE_QUANTITY:
        raise _quantity_error(f"At most {MAX_LINE_QUANTITY} of one piece per line.")
    if line is None and len(items) >= MAX_LINES:
        raise ValidationFailedError(f"A cart holds at most {MAX_LINES} lines.")
    demand = _variant_demand(items, product.id, priced.variant_key) + data.quantity
    await _ensure_stock(session, product, priced.variant_key, demand)
    if line is None:
        session.add(
            CartItem(
                cart_id=cart.id,
                product_id=product.id,
                configuration=priced.normalized_configuration,
                variant_key=priced.variant_key,
                quantity=quantity,
            )
        )
    else:
        line.quantity = quantity
    await _touch(session, cart)
    return CartState(await price_cart(session, cart, owner.user_id), token)


async def _touch(session: AsyncSession, cart: Cart) -> None:
    cart.updated_at = utcnow()
    await session.flush()


async def _owned_item(session: AsyncSession, cart: Cart, item_id: uuid.UUID) -> CartItem:
    item = await session.scalar(
        select(CartItem).where(CartItem.id == item_id, CartItem.cart_id == cart.id)
    )
    if item is None:
        raise NotFoundError("There is no such item in your cart.")
    return item


async def set_quantity(
    session: AsyncSession, owner: CartOwner, item_id: uuid.UUID, quantity: int
) -> CartState:
    """Change a line's quantity; more than before needs the stock for it."""
    cart = await _existing_cart(session, owner)
    item = await _owned_item(session, cart, item_id)
    if quantity > item.quantity:
        product = await session.get(Product, item.product_id)
        assert product is not None  # the foreign key guarantees it
        if not is_live(product):
            raise _quantity_error(WITHDRAWN)
        items = await _items(session, cart.id)
        demand = _variant_demand(items, product.id, item.variant_key) - item.quantity + quantity
        await _ensure_stock(session, product, item.variant_key, demand)
    item.quantity = quantity
    await _touch(session, cart)
    return CartState(await price_cart(session, cart, owner.user_id))


async def remove_item(session: AsyncSession, owner: CartOwner, item_id: uuid.UUID) -> CartState:
    """Remove one line."""
    cart = await _existing_cart(session, owner)
    await session.delete(await _owned_item(session, cart, item_id))
    await _touch(session, cart)
    return CartState(await price_cart(session, cart, owner.user_id))


async def clear_cart(session: AsyncSession, owner: CartOwner) -> CartState:
    """Remove every line and the coupon."""
    cart = await _find_cart(session, owner, lock=True)
    if cart is not None:
        await empty_cart(session, cart.id)
    return CartState(await price_cart(session, cart, owner.user_id))


async def apply_coupon(session: AsyncSession, owner: CartOwner, code: str) -> CartState:
    """Apply a coupon to the cart; 422 (field `code`) when it does not apply to it now."""
    cart = await _find_cart(session, owner, lock=True)
    lines = [] if cart is None else await price_lines(session, await load_lines(session, cart.id))
    result = await evaluate_coupon(
        session, code, user_id=owner.user_id, lines=discount_lines(lines)
    )
    assert cart is not None  # an empty cart has nothing a coupon applies to
    cart.coupon_code = result.code
    await _touch(session, cart)
    return CartState(await price_cart(session, cart, owner.user_id))


async def remove_coupon(session: AsyncSession, owner: CartOwner) -> CartState:
    """Take the coupon off the cart (nothing happens when there is none)."""
    cart = await _find_cart(session, owner, lock=True)
    if cart is not None and cart.coupon_code is not None:
        cart.coupon_code = None
        await _touch(session, cart)
    return CartState(await price_cart(session, cart, owner.user_id))


# --- merge at login -----------------------------------------------------------------------------


async def merge_guest_cart(session: AsyncSession, user_id: uuid.UUID, cart_token: str) -> None:
    """Fold a guest's cart into the user's at sign-in, then delete it.

    The same piece in the same configuration adds up (capped at the line limit); anything else
    becomes a line of its own while the cart has room. The user's coupon wins over the guest's.
    An unknown or expired token changes nothing.
    """
    guest = await _find_cart(session, CartOwner(None, cart_token), lock=True)
    if guest is None:
        return
    cart = await _user_cart(session, user_id)
    items = await _items(session, cart.id)
    for item in await _items(session, guest.id):
        line = _same_line(items, item.product_id, item.configuration)
        if line is not None:
            line.quantity = min(MAX_LINE_QUANTITY, line.quantity + item.quantity)
        elif len(items) < MAX_LINES:
            item.cart_id = cart.id
            items.append(item)
    cart.coupon_code = cart.coupon_code or guest.coupon_code
    await _touch(session, cart)
    await session.execute(delete(Cart).where(Cart.id == guest.id))


# --- for checkout -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnapshotLine:
    """A cart line as the order will record it."""

    product_id: uuid.UUID
    product_slug: str
    title: str
    collection_slug: str | None
    configuration: dict[str, Any]
    variant_key: str
    quantity: int
    unit_price_pence: int
    line_total_pence: int
    made_to_order: bool


@dataclass(frozen=True, slots=True)
class CartSnapshot:
    """A user's cart priced for an order, with the coupon's discount (if any)."""

    cart_id: uuid.UUID
    lines: list[SnapshotLine]
    subtotal_pence: int
    coupon_code: str | None
    discount: DiscountResult | None
    treatment: VatTreatment


def _snapshot_line(index: int, line: PricedLine) -> SnapshotLine:
    priced, product, unit = line.priced, line.product, line.unit_price_pence
    if priced is None or unit is None:
        message = f"{product.title}: {line.problem}"
        raise ValidationFailedError(
            message, errors=[{"field": f"items.{index}", "message": message}]
        )
    return SnapshotLine(
        product_id=product.id,
        product_slug=product.slug,
        title=product.title,
        collection_slug=product.collection_slug,
        configuration=dict(priced.normalized_configuration),  # the priced one is shared
        variant_key=priced.variant_key,
        quantity=line.item.quantity,
        unit_price_pence=unit,
        line_total_pence=unit * line.item.quantity,
        made_to_order=product.made_to_order,
    )


async def checkout_snapshot(
    session: AsyncSession, user_id: uuid.UUID, treatment: VatTreatment = VatTreatment.STANDARD
) -> CartSnapshot:
    """The user's cart priced now under `treatment` (each unit price charged net for an
    export), locked until the transaction ends (two checkouts queue).

    422 when the cart is empty, when a line can no longer be priced (naming it, field
    `items.<n>`) or when the coupon no longer applies (field `code`). Stock is not checked here:
    checkout reserves it.
    """
    cart = await _find_cart(session, CartOwner(user_id, None), lock=True)
    loaded = None if cart is None else await load_lines(session, cart.id, with_stock=False)
    if cart is None or loaded is None or not loaded.rows:
        raise ValidationFailedError("The cart is empty.")
    # reserve() checks the stock, locked
    priced = await price_lines(session, loaded, check_stock=False, treatment=treatment)
    lines = [_snapshot_line(n, line) for n, line in enumerate(priced)]
    discount = None
    if cart.coupon_code:
        discount = await evaluate_coupon(
            session,
            cart.coupon_code,
            user_id=user_id,
            lines=discount_lines(priced),
            treatment=treatment,
        )
    subtotal = sum(line.line_total_pence for line in lines)
    return CartSnapshot(cart.id, lines, subtotal, cart.coupon_code, discount, treatment)


_EMPTY_CART = (
    update(Cart)
    .where(Cart.id == bindparam("cart_id"))
    .values(coupon_code=None, updated_at=bindparam("now"))
    .add_cte(delete(CartItem).where(CartItem.cart_id == bindparam("cart_id")).cte("emptied"))
)


async def empty_cart(session: AsyncSession, cart_id: uuid.UUID) -> None:
    """Remove every line of a cart and its coupon (after an order was placed from it)."""
    await session.execute(_EMPTY_CART, {"cart_id": cart_id, "now": utcnow()})


# --- rendering ----------------------------------------------------------------------------------


def cart_read(state: CartState, settings: Settings) -> CartRead:
    """The response body: lines, subtotal, discount, default shipping and total."""
    priced = state.priced
    shipping = 0
    if priced.lines:
        method = default_method((state.country or HOME_COUNTRY).upper())
        shipping = charged(shipping_options(settings)[method].price_pence, priced.treatment)
    total = priced.subtotal_pence - priced.discount_pence + shipping
    return CartRead(
        id=priced.cart_id,
        items=[_item_read(line) for line in priced.lines],
        subtotal=Money.from_pence(priced.subtotal_pence),
        discount=Money.from_pence(priced.discount_pence),
        shipping=Money.from_pence(shipping),
        total=Money.from_pence(total),
        vat=Money.from_pence(vat_of(total, priced.treatment)),
        vat_treatment=priced.treatment,
        coupon_code=priced.coupon_code,
        coupon_problem=priced.coupon_problem,
        cart_token=state.issued_token,
    )


def _item_read(line: PricedLine) -> CartItemRead:
    item, priced = line.item, line.priced
    unit = None if line.unit_price_pence is None else Money.from_pence(line.unit_price_pence)
    total = line.line_total_pence
    return CartItemRead(
        id=item.id,
        product_slug=line.product.slug,
        title=line.product.title,
        configuration=item.configuration if priced is None else priced.normalized_configuration,
        variant_key=line.variant_key,
        quantity=item.quantity,
        unit_price=unit,
        line_total=None if total is None else Money.from_pence(total),
        available=line.available,
        problem=line.problem,
    )


async def delete_expired_guest_carts(session: AsyncSession, limit: int) -> int:
    """Delete up to `limit` guest carts past their expiry (their lines go with them by
    cascade); the count deleted. An expired cart is never read again, so none is lost.
    Rows another purge holds are skipped, so concurrent runs never wait on each other."""
    batch = (
        select(Cart.id)
        .where(Cart.user_id.is_(None), Cart.expires_at < utcnow())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = delete(Cart).where(Cart.id.in_(batch))
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return rows_affected(result)


# --- forgotten carts ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForgottenLine:
    product_id: uuid.UUID
    title: str
    configuration: dict[str, Any]
    quantity: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class ForgottenCart:
    """A signed-in client's cart left unchanged, with its lines."""

    cart_id: uuid.UUID
    user_id: uuid.UUID
    updated_at: datetime
    lines: tuple[ForgottenLine, ...]


async def forgotten_carts(
    session: AsyncSession,
    unchanged_since: datetime,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[ForgottenCart]:
    """Signed-in clients' carts with lines, no change since `unchanged_since` and no reminder
    since their last change; one keyset page after `after` (updated_at, id), locked (SKIP
    LOCKED: another worker takes the others)."""
    statement = (
        select(Cart)
        .where(
            Cart.user_id.is_not(None),
            Cart.updated_at <= unchanged_since,
            select(CartItem.id).where(CartItem.cart_id == Cart.id).exists(),
            ~select(CartReminder.id)
            .where(CartReminder.cart_id == Cart.id, CartReminder.sent_at >= Cart.updated_at)
            .exists(),
        )
        .order_by(Cart.updated_at, Cart.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if after is not None:
        statement = statement.where(tuple_(Cart.updated_at, Cart.id) > tuple_(*after))
    carts = list(await session.scalars(statement))
    if not carts:
        return []
    rows = await session.execute(
        select(CartItem, Product.title)
        .join(Product, Product.id == CartItem.product_id)
        .where(CartItem.cart_id.in_([c.id for c in carts]))
        .order_by(CartItem.created_at, CartItem.id)
    )
    lines: dict[uuid.UUID, list[ForgottenLine]] = {}
    for item, title in rows.tuples():
        lines.setdefault(item.cart_id, []).append(
            ForgottenLine(
                item.product_id, title, item.configuration, item.quantity, item.created_at
            )
        )
    return [
        ForgottenCart(c.id, c.user_id, c.updated_at, tuple(lines.get(c.id, ())))
        for c in carts
        if c.user_id is not None
    ]
