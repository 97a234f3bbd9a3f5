"""Wishlists: one entry per product per user, with an optional preferred configuration."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, delete, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.catalog.service import get_product, is_live, price_now, price_product
from elysium.engagement.alerts import current_state
from elysium.engagement.schemas import WishlistItemRead, WishlistWrite
from elysium.errors import NotFoundError
from elysium.inventory.service import available_for_products, in_stock
from elysium.kit.keyset import decode_time_cursor
from elysium.kit.money import Money
from elysium.kit.pagination import Page, encode_cursor
from elysium.models import Product, WishlistItem


@dataclass(frozen=True, slots=True)
class _Entry:
    product: Product
    configuration: dict[str, Any] | None
    added_at: datetime


async def save_to_wishlist(
    session: AsyncSession, user_id: uuid.UUID, data: WishlistWrite
) -> tuple[WishlistItemRead, bool]:
    """Add a product, or replace the configuration stored with it; True when it is new."""
    if data.configuration is None:
        product, configuration = await get_product(session, data.product_slug), None
    else:
        product, priced = await price_product(session, data.product_slug, data.configuration)
        configuration = priced.normalized_configuration
    seen = await current_state(session, product, configuration)
    statement = insert(WishlistItem).values(
        id=uuid.uuid4(),
        user_id=user_id,
        product_id=product.id,
        configuration=configuration,
        seen_available=None if seen is None else seen.available,
        seen_price_pence=None if seen is None else seen.price_pence,
    )
    added_at, created = (
        await session.execute(
            statement.on_conflict_do_update(
                constraint="uq_wishlist_items_entry",
                set_={
                    "configuration": statement.excluded.configuration,
                    "seen_available": statement.excluded.seen_available,
                    "seen_price_pence": statement.excluded.seen_price_pence,
                },
            ).returning(WishlistItem.created_at, literal_column("xmax = 0", Boolean))
        )
    ).one()
    return await _read(session, _Entry(product, configuration, added_at)), created


async def remove_from_wishlist(
    session: AsyncSession, user_id: uuid.UUID, product_slug: str
) -> None:
    """Remove a product (withdrawn ones too); 404 when it is not on the wishlist."""
    product_ids = select(Product.id).where(Product.slug == product_slug).scalar_subquery()
    result = await session.execute(
        delete(WishlistItem)
        .where(WishlistItem.user_id == user_id, WishlistItem.product_id.in_(product_ids))
        .returning(WishlistItem.id)
    )
    if result.first() is None:
        raise NotFoundError("This piece is not on your wishlist.")


async def list_wishlist(
    session: AsyncSession, user_id: uuid.UUID, limit: int, cursor: str | None
) -> Page[WishlistItemRead]:
    """The user's wishlist, most recently added first, each piece priced now."""
    statement = (
        select(WishlistItem, Product)
        .join(Product, Product.id == WishlistItem.product_id)
        .where(WishlistItem.user_id == user_id)
        .order_by(WishlistItem.created_at.desc(), WishlistItem.id.desc())
    )
    after = decode_time_cursor(cursor)
    if after is not None:
        statement = statement.where(tuple_(WishlistItem.created_at, WishlistItem.id) < after)
    rows = (await session.execute(statement.limit(limit + 1))).all()
    items = [
        await _read(session, _Entry(product, item.configuration, item.created_at))
        for item, product in rows[:limit]
    ]
    last = rows[limit - 1][0] if len(rows) > limit else None
    next_cursor = (
        None if last is None else encode_cursor([last.created_at.isoformat(), str(last.id)])
    )
    return Page(items=items, next_cursor=next_cursor)


async def _read(session: AsyncSession, entry: _Entry) -> WishlistItemRead:
    """An entry priced now: its configuration's price, else the base ("from") price."""
    product = entry.product
    unit_price: int | None = None
    variant_key: str | None = None
    available = False
    if entry.configuration is None and is_live(product):
        unit_price = product.base_price_pence
        available = (await available_for_products(session, [product]))[product.id]
    elif entry.configuration is not None:
        outcome = price_now(product, entry.configuration)
        if not isinstance(outcome, str):
            unit_price, variant_key = outcome.unit_price_pence, outcome.variant_key
            available = await in_stock(session, product, variant_key)
    return WishlistItemRead(
        product_slug=product.slug,
        title=product.title,
        configuration=entry.configuration,
        variant_key=variant_key,
        unit_price=None if unit_price is None else Money.from_pence(unit_price),
        available=available,
        added_at=entry.added_at,
    )
