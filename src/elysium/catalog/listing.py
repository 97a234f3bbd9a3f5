"""The product list: filters (collection, category with its descendants, metal, price range),
sorts, keyset pages and facet counts over the filtered set.

A jeweller's catalogue is small (hundreds of pieces), and every answer is cached whole, so a
miss loads the filtered set once and sorts, pages and counts it here; relevance-ranked search
pages in SQL.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from elysium.catalog.schemas import (
    FacetCount,
    Facets,
    PriceBandCount,
    ProductPage,
    ProductSort,
    ProductSummary,
)
from elysium.errors import ValidationFailedError
from elysium.kit.clock import utcnow
from elysium.kit.money import Money
from elysium.kit.pagination import decode_cursor, encode_cursor
from elysium.models import Category, Product

POPULAR_WINDOW = timedelta(days=30)
# (slug, lower bound, upper bound exclusive) in pence
PRICE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under-1000", 0, 1_000_00),
    ("1000-2500", 1_000_00, 2_500_00),
    ("2500-5000", 2_500_00, 5_000_00),
    ("5000-10000", 5_000_00, 10_000_00),
    ("10000-plus", 10_000_00, None),
)


@dataclass(frozen=True, slots=True)
class ProductFilters:
    """What `GET /api/products` narrows by, and its order."""

    collection: str | None = None
    category: str | None = None
    q: str | None = None
    metal: str | None = None
    min_price_pence: int | None = None
    max_price_pence: int | None = None
    sort: ProductSort | None = None


ViewCounts = Callable[
    [AsyncSession, Sequence[uuid.UUID], datetime], Awaitable[dict[uuid.UUID, int]]
]
"""Product views since a moment, per product (provided by the analytics domain)."""


def visible() -> ColumnElement[bool]:
    return and_(Product.deleted_at.is_(None), Product.published.is_(True))


def _in_category_tree(slug: str) -> ColumnElement[bool]:
    """The category `slug` or any live category below it (UNION: a cycle cannot loop)."""
    live = and_(Category.deleted_at.is_(None), Category.published.is_(True))
    top = (
        select(Category.sanity_id, Category.slug)
        .where(Category.slug == slug, live)
        .cte("category_tree", recursive=True)
    )
    below = select(Category.sanity_id, Category.slug).join(
        top, Category.parent_sanity_id == top.c.sanity_id
    )
    tree = top.union(below.where(live))
    return or_(Product.category == slug, Product.category.in_(select(tree.c.slug)))


# what a list never shows: left in the database (reading one raises rather than querying)
_LIST_ONLY = tuple(
    defer(column, raiseload=True)
    for column in (
        Product.document,
        Product.search,
        Product.description,
        Product.options,
        Product.engraving,
        Product.images,
        Product.certificate,
    )
)


def filtered(filters: ProductFilters) -> Select[Product]:
    """Live products matching every filter but the search words (without the columns only a
    product page needs)."""
    statement = select(Product).options(*_LIST_ONLY).where(visible())
    if filters.collection:
        statement = statement.where(Product.collection_slug == filters.collection)
    if filters.category:
        statement = statement.where(_in_category_tree(filters.category))
    if filters.metal:
        statement = statement.where(Product.metals.contains([filters.metal]))
    if filters.min_price_pence is not None:
        statement = statement.where(Product.base_price_pence >= filters.min_price_pence)
    if filters.max_price_pence is not None:
        statement = statement.where(Product.base_price_pence <= filters.max_price_pence)
    return statement


# --- facets ------------------------------------------------------------------------------------


def _counts(values: Counter[str]) -> list[FacetCount]:
    return [FacetCount(value=v, count=n) for v, n in sorted(values.items())]


def facets_of(products: Sequence[Product], currency: str = "GBP") -> Facets:
    """Counts per collection, category, metal and price band over `products`."""
    bands = Counter[str]()
    for product in products:
        for name, low, high in PRICE_BANDS:
            if product.base_price_pence >= low and (
                high is None or product.base_price_pence < high
            ):
                bands[name] += 1
    return Facets(
        collection=_counts(Counter(p.collection_slug for p in products if p.collection_slug)),
        category=_counts(Counter(p.category for p in products if p.category)),
        metal=_counts(Counter(metal for p in products for metal in set(p.metals or ()))),
        price_band=[
            PriceBandCount(
                value=name,
                min_price=Money.from_pence(low, currency),
                max_price=None if high is None else Money.from_pence(high, currency),
                count=bands[name],
            )
            for name, low, high in PRICE_BANDS
        ],
    )


# --- sorting and pages ------------------------------------------------------------------------


def _sort_key(sort: ProductSort | None, product: Product, views: dict[uuid.UUID, int]) -> list[Any]:
    """The keyset of `product` under `sort`, ascending, ending in the unique slug."""
    match sort:
        case ProductSort.PRICE_ASC:
            return [product.base_price_pence, product.slug]
        case ProductSort.PRICE_DESC:
            return [-product.base_price_pence, product.slug]
        case ProductSort.NEWEST:
            created = product.sanity_created_at or product.created_at
            return [-created.timestamp(), product.slug]
        case ProductSort.FEATURED:
            return [0 if product.featured else 1, product.title, product.slug]
        case ProductSort.POPULAR:
            return [-views.get(product.id, 0), product.title, product.slug]
        case None:
            return [product.title, product.slug]


def _after(cursor: str | None, sort: ProductSort | None, size: int) -> list[Any] | None:
    values = decode_cursor(cursor, size + 1)
    if values is None:
        return None
    if values[0] != (sort or "title") or any(
        isinstance(v, bool) or not isinstance(v, str | int | float) for v in values[1:]
    ):
        raise _invalid_cursor()
    return values[1:]


def _invalid_cursor() -> ValidationFailedError:
    return ValidationFailedError(
        "The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid cursor"}]
    )


def page_sorted(
    products: Sequence[Product],
    sort: ProductSort | None,
    views: dict[uuid.UUID, int],
    limit: int,
    cursor: str | None,
) -> tuple[list[Product], str | None]:
    """One keyset page of `products` in `sort` order, and the cursor of the next."""
    keyed = sorted(((_sort_key(sort, p, views), p) for p in products), key=lambda kp: kp[0])
    after = _after(cursor, sort, _KEY_SIZE[sort])
    if after is not None:
        try:
            keyed = [kp for kp in keyed if kp[0] > after]
        except TypeError as exc:
            raise _invalid_cursor() from exc
    page = keyed[:limit]
    more = len(keyed) > limit
    next_cursor = encode_cursor([sort or "title", *page[-1][0]]) if more else None
    return [p for _, p in page], next_cursor


_KEY_SIZE: dict[ProductSort | None, int] = {
    None: 2,
    ProductSort.PRICE_ASC: 2,
    ProductSort.PRICE_DESC: 2,
    ProductSort.NEWEST: 2,
    ProductSort.FEATURED: 3,
    ProductSort.POPULAR: 3,
}


async def load_filtered(
    session: AsyncSession, filters: ProductFilters, condition: ColumnElement[bool] | None = None
) -> list[Product]:
    """Every live product matching the filters (and `condition`)."""
    statement = filtered(filters)
    if condition is not None:
        statement = statement.where(condition)
    return list((await session.scalars(statement)).all())


async def any_match(
    session: AsyncSession, filters: ProductFilters, condition: ColumnElement[bool]
) -> bool:
    return bool(await session.scalar(select(exists(filtered(filters).where(condition)))))


async def popular_views(
    session: AsyncSession, view_counts: ViewCounts, products: Sequence[Product]
) -> dict[uuid.UUID, int]:
    """Views of each product in the last 30 days."""
    return await view_counts(session, [p.id for p in products], utcnow() - POPULAR_WINDOW)


def summary(product: Product, in_stock: bool) -> ProductSummary:
    """A product as a list shows it."""
    return ProductSummary(
        slug=product.slug,
        title=product.title,
        collection=product.collection_slug,
        category=product.category,
        base_price=Money.from_pence(product.base_price_pence, product.currency),
        image=product.image_url,
        in_stock=in_stock,
        sku=product.sku,
        compare_at_price=None
        if product.compare_at_price_pence is None
        else Money.from_pence(product.compare_at_price_pence, product.currency),
        on_sale=product.compare_at_price_pence is not None,
        featured=product.featured,
    )


def product_page(
    products: Sequence[Product], in_stock: Sequence[bool], next_cursor: str | None, facets: Facets
) -> ProductPage:
    items = [summary(p, s) for p, s in zip(products, in_stock, strict=True)]
    return ProductPage(items=items, next_cursor=next_cursor, facets=facets)
