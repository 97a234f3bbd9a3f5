"""Catalogue reads: products, collections, search, and pricing a configuration.

Other domains call `get_product`, `product_spec` and `price_product`. The catalogue sits below
inventory: pages that show availability take a `StockLookup` from their caller (the routes pass
`inventory.service.available_quantities`), so this module never imports inventory.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.catalog import listing
from elysium.catalog.cache import CatalogCache
from elysium.catalog.listing import ProductFilters, ViewCounts
from elysium.catalog.pricing import (
    SLUG_PATTERN,
    InvalidConfigurationError,
    InvalidProductSpecError,
    PricedConfiguration,
    ProductSpec,
    price_configuration,
)
from elysium.catalog.schemas import (
    CategoryNode,
    CategoryTree,
    CertificateRead,
    CollectionRead,
    EngravingRead,
    ImageRead,
    OptionRead,
    OptionValueRead,
    PriceRead,
    ProductListQuery,
    ProductPage,
    ProductRead,
    ProductSort,
)
from elysium.db import table_of
from elysium.errors import NotFoundError, ValidationFailedError
from elysium.kit.money import Money
from elysium.kit.pagination import Page, decode_cursor, encode_cursor
from elysium.models import Category, Collection, Product

_SPEC_CACHE_SIZE = 4096
_PRICED_CACHE_SIZE = 8192
WITHDRAWN = "This piece is no longer offered."
RECONFIGURE = "This configuration is no longer offered; please choose again."
SpecKey = tuple[uuid.UUID, str]  # (product id, revision): a new revision is a new key
_specs: dict[SpecKey, ProductSpec] = {}
# (product id, revision, the stored configuration's JSON text as PostgreSQL renders jsonb);
# engraved configurations are many, and an OrderedDict drops the oldest in O(1)
_priced: OrderedDict[tuple[uuid.UUID, str, str], PricedConfiguration | str] = OrderedDict()


def product_filters(query: ProductListQuery) -> ProductFilters:
    """The list filters from the query; 422 when the price range is upside down."""
    low = None if query.min_price is None else int(query.min_price * 100)
    high = None if query.max_price is None else int(query.max_price * 100)
    if low is not None and high is not None and low > high:
        raise ValidationFailedError(
            "min_price must not be above max_price.",
            errors=[{"field": "min_price", "message": "above max_price"}],
        )
    return ProductFilters(
        collection=query.collection or None,
        category=query.category or None,
        q=(query.q or "").strip() or None,
        metal=query.metal or None,
        min_price_pence=low,
        max_price_pence=high,
        sort=query.sort,
    )


def _visible() -> ColumnElement[bool]:
    return listing.visible()


def _typed_cursor(cursor: str | None, *types: type | tuple[type, ...]) -> list[Any] | None:
    """Decode a cursor and check each value's type, so a forged one is a 422, not a 500."""
    values = decode_cursor(cursor, len(types))
    if values is None:
        return None
    for value, kind in zip(values, types, strict=True):
        if not isinstance(value, kind) or isinstance(value, bool) or "\x00" in str(value):
            raise _invalid_cursor()
    return values


def _invalid_cursor() -> ValidationFailedError:
    return ValidationFailedError(
        "The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid cursor"}]
    )


async def get_product(session: AsyncSession, slug: str) -> Product:
    """The live product called `slug`; NotFoundError when missing, deleted or unpublished."""
    product = None
    if re.fullmatch(SLUG_PATTERN, slug):
        product = await session.scalar(select(Product).where(Product.slug == slug, _visible()))
    if product is None:
        raise NotFoundError(f"No product called {slug[:200]!r}.")
    return product


def _remember_spec(key: SpecKey, inputs: Callable[[], dict[str, Any]]) -> ProductSpec:
    spec = _specs.get(key)
    if spec is None:
        spec = ProductSpec.model_validate(inputs())
        if len(_specs) >= _SPEC_CACHE_SIZE:
            _specs.pop(next(iter(_specs)))
        _specs[key] = spec
    return spec


def product_spec(product: Product) -> ProductSpec:
    """The price engine's view of a product, built once per product revision."""
    return _remember_spec(
        (product.id, product.rev),
        lambda: {
            "slug": product.slug,
            "base_price_pence": product.base_price_pence,
            "currency": product.currency,
            "options": product.options,
            "inventory_options": product.inventory_options,
            "engraving": product.engraving,
            "made_to_order": product.made_to_order,
        },
    )


def is_live(product: Product) -> bool:
    """Still offered: neither deleted from the catalogue nor unpublished."""
    return product.deleted_at is None and product.published


def price_now(product: Product, configuration: object) -> PricedConfiguration | str:
    """Today's price of a stored configuration (a cart line, a saved or wished-for piece), or
    why it has none."""
    if not is_live(product):
        return WITHDRAWN
    try:
        return price_configuration(product_spec(product), configuration)
    except (InvalidConfigurationError, InvalidProductSpecError):
        return RECONFIGURE


# --- pricing stored lines without the ORM (the cart's hot read) ---------------------------------


@dataclass(frozen=True, slots=True)
class LineProduct:
    """A product as a stored line (a cart line) needs it, read in the line's own query: plain
    values, no ORM object. The price engine's JSON inputs come as text, decoded only when this
    revision's spec is not cached yet."""

    id: uuid.UUID
    rev: str
    slug: str
    title: str
    collection_slug: str | None
    made_to_order: bool
    live: bool
    base_price_pence: int = field(repr=False)
    currency: str = field(repr=False)
    options_json: str = field(repr=False)
    inventory_options_json: str = field(repr=False)
    engraving_json: str | None = field(repr=False)


def line_product_columns() -> tuple[ColumnElement[Any], ...]:
    """The columns to select (joined to `products`) for `line_product(row[i:])`."""
    products = table_of(Product)
    return (
        products.c.id,
        products.c.rev,
        products.c.slug,
        products.c.title,
        products.c.collection_slug,
        products.c.made_to_order,
        listing.visible(),  # live: the catalogue's one rule
        products.c.base_price_pence,
        products.c.currency,
        cast(products.c.options, Text),
        cast(products.c.inventory_options, Text),
        cast(products.c.engraving, Text),
    )


LINE_PRODUCT_WIDTH = 12


def line_product(values: Sequence[Any]) -> LineProduct:
    """A `LineProduct` from the values of `line_product_columns()`, in order."""
    return LineProduct(*values[:LINE_PRODUCT_WIDTH])


def line_product_spec(product: LineProduct) -> ProductSpec:
    """The price engine's view of the product, built once per revision (shared with
    `product_spec`)."""
    return _remember_spec(
        (product.id, product.rev),
        lambda: {
            "slug": product.slug,
            "base_price_pence": product.base_price_pence,
            "currency": product.currency,
            "options": json.loads(product.options_json),
            "inventory_options": json.loads(product.inventory_options_json),
            "engraving": None
            if product.engraving_json is None
            else json.loads(product.engraving_json),
            "made_to_order": product.made_to_order,
        },
    )


def price_stored(product: LineProduct, configuration_json: str) -> PricedConfiguration | str:
    """`price_now` for a stored configuration given as its jsonb text, remembered per product
    revision: the outcome of pricing is a pure function of the two, and PostgreSQL renders
    equal jsonb values as equal text. The returned `normalized_configuration` is shared
    between callers: copy it before changing it."""
    if not product.live:
        return WITHDRAWN
    key = (product.id, product.rev, configuration_json)
    outcome = _priced.get(key)
    if outcome is None:
        try:
            outcome = price_configuration(
                line_product_spec(product), json.loads(configuration_json)
            )
        except (InvalidConfigurationError, InvalidProductSpecError):
            outcome = RECONFIGURE
        if len(_priced) >= _PRICED_CACHE_SIZE:
            _priced.popitem(last=False)
        _priced[key] = outcome
    return outcome


async def price_product(
    session: AsyncSession, slug: str, configuration: object
) -> tuple[Product, PricedConfiguration]:
    """Price a configuration of a live product; ValidationFailedError names the bad fields."""
    product = await get_product(session, slug)
    try:
        return product, price_configuration(product_spec(product), configuration)
    except InvalidConfigurationError as exc:
        raise _invalid_configuration(exc) from exc


def _invalid_configuration(exc: InvalidConfigurationError) -> ValidationFailedError:
    return ValidationFailedError(
        "The configuration is not valid for this piece.", errors=exc.as_dicts()
    )


# --- stock ----------------------------------------------------------------------------------


class Stockable(Protocol):
    """What a stock lookup needs of a product (a `Product`, or a cached copy of these values)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def made_to_order(self) -> bool: ...


StockLookup = Callable[
    [AsyncSession, Sequence[tuple[Stockable, str | None]]], Awaitable[list[int | None]]
]
"""Units available per (product, variant key), a None key meaning any variant; None is
unlimited. Provided by the inventory domain (`inventory.service.available_quantities`)."""


async def _in_stock(
    session: AsyncSession, stock_lookup: StockLookup, products: Sequence[Product]
) -> list[bool]:
    stock = await stock_lookup(session, [(p, None) for p in products])
    return [p.made_to_order or q is None or q > 0 for p, q in zip(products, stock, strict=True)]


@dataclass(frozen=True, slots=True)
class PriceableProduct:
    """What pricing needs of a product, cached across requests: plain values, never an ORM
    object (a later request's rollback would expire it, and it has no session to reload from)."""

    id: uuid.UUID
    made_to_order: bool
    spec: ProductSpec


async def priceable_product(session: AsyncSession, slug: str) -> PriceableProduct:
    """The live product `slug` as pricing sees it; NotFoundError when not live."""
    product = await get_product(session, slug)
    return PriceableProduct(product.id, product.made_to_order, product_spec(product))


async def quote_price(
    session: AsyncSession,
    cache: CatalogCache,
    stock_lookup: StockLookup,
    slug: str,
    configuration: object,
) -> PriceRead:
    """The unit price, variant key and availability of a configuration."""
    cached = await cache.remember(("priceable", slug), lambda: priceable_product(session, slug))
    try:
        priced = price_configuration(cached.spec, configuration)
    except InvalidConfigurationError as exc:
        raise _invalid_configuration(exc) from exc
    [units] = await stock_lookup(session, [(cached, priced.variant_key)])
    available = units is None or units > 0
    return PriceRead(
        unit_price=Money.from_pence(priced.unit_price_pence, cached.spec.currency),
        variant_key=priced.variant_key,
        available=available,
        configuration=priced.normalized_configuration,
    )


# --- product detail ---------------------------------------------------------------------------


def _options(product: Product) -> list[OptionRead]:
    spec = product_spec(product)
    return [
        OptionRead(
            name=option.name,
            label=option.label,
            required=spec.is_required(option),
            values=[
                OptionValueRead(
                    value=v.value,
                    label=v.label,
                    price_delta=Money.from_pence(v.price_delta_pence, product.currency),
                )
                for v in option.values
            ],
        )
        for option in spec.options
    ]


def _engraving(product: Product) -> EngravingRead | None:
    engraving = product_spec(product).engraving
    if engraving is None:
        return None
    return EngravingRead(
        available=engraving.available,
        price=Money.from_pence(engraving.price_pence, product.currency),
        max_length=engraving.max_length,
    )


def _images(product: Product) -> list[ImageRead]:
    if product.images:
        return [ImageRead.model_validate(image) for image in product.images]
    if not product.image_url:
        return []
    images = product.document.get("images")
    first: Any = images[0] if isinstance(images, list) and images else {}
    alt = first.get("alt") if isinstance(first, dict) else None
    return [ImageRead(url=product.image_url, alt=alt if isinstance(alt, str) else None)]


async def product_detail(
    session: AsyncSession, stock_lookup: StockLookup, slug: str
) -> ProductRead:
    """Everything the product page needs."""
    product = await get_product(session, slug)
    [in_stock] = await _in_stock(session, stock_lookup, [product])
    return ProductRead(
        slug=product.slug,
        title=product.title,
        description=product.description,
        collection=product.collection_slug,
        category=product.category,
        base_price=Money.from_pence(product.base_price_pence, product.currency),
        options=_options(product),
        engraving=_engraving(product),
        inventory_options=list(product.inventory_options),
        made_to_order=product.made_to_order,
        lead_time_days=product.lead_time_days,
        images=_images(product),
        in_stock=in_stock,
        sku=product.sku,
        compare_at_price=None
        if product.compare_at_price_pence is None
        else Money.from_pence(product.compare_at_price_pence, product.currency),
        on_sale=product.compare_at_price_pence is not None,
        featured=product.featured,
        metals=list(product.metals or ()),
        certificate=None
        if product.certificate is None
        else CertificateRead.model_validate(product.certificate),
    )


# --- lists --------------------------------------------------------------------------------------


def _match(q: str, typo_tolerant: bool) -> tuple[ColumnElement[bool], ColumnElement[float]]:
    """Full-text match and rank, or trigram match and similarity for typos."""
    if typo_tolerant:
        score = func.greatest(
            func.similarity(Product.title, q), func.word_similarity(q, Product.title)
        )
        return or_(Product.title.op("%")(q), literal(q).op("<%")(Product.title)), cast(
            score, DOUBLE_PRECISION
        )
    query = func.websearch_to_tsquery("english", q)
    return Product.search.op("@@")(query), cast(
        func.ts_rank(Product.search, query), DOUBLE_PRECISION
    )


async def _search(
    session: AsyncSession, filters: ProductFilters, limit: int, cursor: str | None
) -> tuple[list[Product], str | None, ColumnElement[bool]]:
    """Ranked matches (and the match condition); trigram similarity when full-text search
    finds nothing at all."""
    assert filters.q
    after = _typed_cursor(cursor, str, (int, float), str)
    if after is None:
        found, _ = _match(filters.q, typo_tolerant=False)
        after_mode = "fts" if await listing.any_match(session, filters, found) else "trgm"
    elif after[0] in ("fts", "trgm"):
        after_mode = after[0]
    else:
        raise _invalid_cursor()
    condition, score = _match(filters.q, typo_tolerant=after_mode == "trgm")
    statement = listing.filtered(filters).add_columns(score).where(condition)
    if after is not None:
        statement = statement.where(
            or_(score < after[1], and_(score == after[1], Product.slug > after[2]))
        )
    rows = (
        await session.execute(statement.order_by(score.desc(), Product.slug).limit(limit + 1))
    ).all()
    products = [row[0] for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = None if last is None else encode_cursor([after_mode, last[1], last[0].slug])
    return products, next_cursor, condition


async def list_products(
    session: AsyncSession,
    stock_lookup: StockLookup,
    filters: ProductFilters,
    limit: int,
    cursor: str | None,
    view_counts: ViewCounts | None = None,
) -> ProductPage:
    """One page of live products (searched when `filters.q` is given, in `filters.sort`
    order), with facet counts over every product the filters match."""
    if filters.q and filters.sort is None:
        products, next_cursor, condition = await _search(session, filters, limit, cursor)
        facets = listing.facets_of(await listing.load_filtered(session, filters, condition))
    else:
        condition = None
        if filters.q:
            found, _ = _match(filters.q, typo_tolerant=False)
            tolerant = not await listing.any_match(session, filters, found)
            condition = found if not tolerant else _match(filters.q, typo_tolerant=True)[0]
        matching = await listing.load_filtered(session, filters, condition)
        views: dict[uuid.UUID, int] = {}
        if filters.sort is ProductSort.POPULAR and view_counts is not None and matching:
            views = await listing.popular_views(session, view_counts, matching)
        products, next_cursor = listing.page_sorted(matching, filters.sort, views, limit, cursor)
        facets = listing.facets_of(matching)
    in_stock = await _in_stock(session, stock_lookup, products)
    return listing.product_page(products, in_stock, next_cursor, facets)


async def list_collections(
    session: AsyncSession, limit: int, cursor: str | None
) -> Page[CollectionRead]:
    """Live collections by title, with how many live products each holds."""
    count = (
        select(func.count())
        .where(Product.collection_id == Collection.id, _visible())
        .scalar_subquery()
    )
    statement = select(Collection, count).where(
        Collection.deleted_at.is_(None), Collection.published.is_(True)
    )
    after = _typed_cursor(cursor, str, str)
    if after is not None:
        statement = statement.where(tuple_(Collection.title, Collection.slug) > tuple_(*after))
    rows = (
        await session.execute(
            statement.order_by(Collection.title, Collection.slug).limit(limit + 1)
        )
    ).all()
    items = [
        CollectionRead(slug=c.slug, title=c.title, description=c.description, product_count=n)
        for c, n in rows[:limit]
    ]
    last = rows[limit - 1][0] if len(rows) > limit else None
    return Page(
        items=items, next_cursor=None if last is None else encode_cursor([last.title, last.slug])
    )


# --- categories ---------------------------------------------------------------------------------


async def category_tree(session: AsyncSession) -> CategoryTree:
    """Live categories as a tree, each with the live products in it or below it."""
    categories = (
        await session.scalars(
            select(Category)
            .where(Category.deleted_at.is_(None), Category.published.is_(True))
            .order_by(Category.sort_order, Category.title, Category.slug)
        )
    ).all()
    counts = dict(
        (
            await session.execute(
                select(Product.category, func.count()).where(_visible()).group_by(Product.category)
            )
        )
        .tuples()
        .all()
    )
    by_id = {c.sanity_id: c for c in categories}
    children: dict[str | None, list[Category]] = {}
    for category in categories:
        parent = category.parent_sanity_id if category.parent_sanity_id in by_id else None
        children.setdefault(parent, []).append(category)

    def node(category: Category, seen: frozenset[str]) -> CategoryNode:
        below = [
            node(c, seen | {c.sanity_id})
            for c in children.get(category.sanity_id, [])
            if c.sanity_id not in seen
        ]
        return CategoryNode(
            slug=category.slug,
            title=category.title,
            description=category.description,
            product_count=counts.get(category.slug, 0) + sum(n.product_count for n in below),
            children=below,
        )

    return CategoryTree(items=[node(c, frozenset({c.sanity_id})) for c in children.get(None, [])])
