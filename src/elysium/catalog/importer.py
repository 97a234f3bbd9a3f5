"""Catalogue writes: upserting Sanity documents, soft deletes, and the Sanity webhook.

Upserts are keyed by Sanity id and guarded by `_rev`, so applying the same revision twice (an
import run again, a webhook retried, two syncs racing) changes nothing. Every write that changes
something notifies the app processes so they drop their cached catalogue reads on commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, null, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.catalog.cache import notify_catalog_changed
from elysium.catalog.records import CategoryRecord, CollectionRecord, ProductRecord
from elysium.kit.clock import utcnow
from elysium.models import Category, Collection, Product

Record = CollectionRecord | CategoryRecord | ProductRecord
Model = type[Collection] | type[Category] | type[Product]


@dataclass(slots=True)
class ApplyResult:
    """How many rows each write actually changed."""

    collections: int = 0
    products: int = 0
    categories: int = 0

    @property
    def changed(self) -> int:
        return self.collections + self.products + self.categories


def _latest_by_id(
    records: Iterable[Record],
) -> tuple[list[CollectionRecord], list[CategoryRecord], list[ProductRecord]]:
    """Collections, categories and products, one record per Sanity id (the last one wins)."""
    latest: dict[str, Record] = {r.sanity_id: r for r in records if r.published}
    collections = [r for r in latest.values() if isinstance(r, CollectionRecord)]
    categories = [r for r in latest.values() if isinstance(r, CategoryRecord)]
    products = [r for r in latest.values() if isinstance(r, ProductRecord)]
    return collections, categories, products


def _category_row(record: CategoryRecord) -> dict[str, Any]:
    return {
        "sanity_id": record.sanity_id,
        "slug": record.slug,
        "title": record.title,
        "description": record.description,
        "parent_sanity_id": record.parent_sanity_id,
        "sort_order": record.sort_order,
        "document": record.raw,
        "rev": record.rev or "",
        "sanity_updated_at": record.updated_at,
        "published": True,
    }


def _collection_row(record: CollectionRecord) -> dict[str, Any]:
    return {
        "sanity_id": record.sanity_id,
        "slug": record.slug,
        "title": record.title,
        "description": record.description,
        "document": record.raw,
        "rev": record.rev or "",
        "sanity_updated_at": record.updated_at,
        "published": True,
    }


def _product_row(record: ProductRecord) -> dict[str, Any]:
    spec = record.spec_json
    return {
        "sanity_id": record.sanity_id,
        "slug": record.slug,
        "title": record.title,
        "description": record.description,
        "collection_slug": record.collection_slug,
        "category": record.category,
        "base_price_pence": record.base_price_pence,
        "currency": record.currency,
        "options": spec["options"],
        "inventory_options": spec["inventory_options"],
        "engraving": spec["engraving"],
        "made_to_order": record.made_to_order,
        "lead_time_days": record.lead_time_days,
        "image_url": record.image_url,
        "sku": record.sku,
        "compare_at_price_pence": record.compare_at_price_pence,
        "featured": record.featured,
        "images": list(record.images),
        "certificate": record.certificate,
        "metals": record.metals,
        "sanity_created_at": record.created_at,
        "document": record.raw,
        "rev": record.rev or "",
        "sanity_updated_at": record.updated_at,
        "published": True,
    }


async def _upsert(session: AsyncSession, model: Model, rows: Sequence[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT (sanity_id) DO UPDATE, only where the revision differs."""
    if not rows:
        return 0
    table = model.__table__
    statement = insert(model).values(list(rows))
    changes: dict[str, ColumnElement[Any]] = {
        name: statement.excluded[name] for name in rows[0] if name != "sanity_id"
    }
    changes["deleted_at"] = null()
    changes["updated_at"] = func.now()
    if model is Product:  # a webhook cannot resolve images: keep the ones we know
        changes["image_url"] = func.coalesce(statement.excluded.image_url, table.c.image_url)
        changes["images"] = case(
            (func.jsonb_array_length(statement.excluded.images) == 0, table.c.images),
            else_=statement.excluded.images,
        )
    upsert = statement.on_conflict_do_update(
        index_elements=["sanity_id"],
        set_=changes,
        where=table.c.rev.is_distinct_from(statement.excluded.rev) | table.c.deleted_at.isnot(None),
    )
    return len((await session.execute(upsert.returning(table.c.id))).all())


async def _link_products_to_collections(session: AsyncSession) -> None:
    """Point `collection_id` at the live collection named by `collection_slug`."""
    collection_id = (
        select(Collection.id)
        .where(Collection.slug == Product.collection_slug, Collection.deleted_at.is_(None))
        .scalar_subquery()
    )
    await session.execute(
        update(Product)
        .where(Product.collection_id.is_distinct_from(collection_id))
        .values(collection_id=collection_id)
        .execution_options(synchronize_session=False)
    )


async def _free_slugs_of_deleted(
    session: AsyncSession, model: Model, records: Sequence[Record]
) -> None:
    """A soft-deleted row gives up its slug to a new document that claims it."""
    claims = [(r.slug, r.sanity_id) for r in records]
    if not claims:
        return
    slugs = [slug for slug, _ in claims]
    await session.execute(
        update(model)
        .where(
            model.slug.in_(slugs),
            model.deleted_at.isnot(None),
            model.sanity_id.notin_([sanity_id for _, sanity_id in claims]),
        )
        .values(slug=func.left(model.slug, 150) + "~deleted~" + func.left(model.sanity_id, 40))
        .execution_options(synchronize_session=False)
    )


async def apply_sanity_documents(session: AsyncSession, records: Iterable[Record]) -> ApplyResult:
    """Upsert collections, categories, then products, by Sanity id; undelete what is
    published again.

    Drafts are ignored. Returns how many rows changed; nothing is notified when none did.
    """
    collections, categories, products = _latest_by_id(records)
    result = ApplyResult()
    await _free_slugs_of_deleted(session, Collection, collections)
    result.collections = await _upsert(
        session, Collection, [_collection_row(r) for r in collections]
    )
    await _free_slugs_of_deleted(session, Category, categories)
    result.categories = await _upsert(session, Category, [_category_row(r) for r in categories])
    await _free_slugs_of_deleted(session, Product, products)
    result.products = await _upsert(session, Product, [_product_row(r) for r in products])
    if result.changed:
        await _link_products_to_collections(session)
        await notify_catalog_changed(session)
    return result


async def soft_delete_documents(session: AsyncSession, sanity_ids: Iterable[str]) -> int:
    """Mark products, collections and categories with these Sanity ids deleted; returns how
    many were live."""
    ids = list(set(sanity_ids))
    deleted = 0
    models: tuple[Model, ...] = (Product, Collection, Category)
    for model in models:
        outcome = await session.execute(
            update(model)
            .where(model.sanity_id.in_(ids), model.deleted_at.is_(None))
            .values(deleted_at=utcnow())
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
        deleted += len(outcome.all())
    if deleted:
        await notify_catalog_changed(session)
    return deleted


async def soft_delete_missing(session: AsyncSession, live_ids: set[str]) -> int:
    """Soft-delete every live product, collection and category whose Sanity id is not in
    `live_ids`."""
    stored: list[str] = []
    models: tuple[Model, ...] = (Product, Collection, Category)
    for model in models:
        stored += (
            await session.scalars(select(model.sanity_id).where(model.deleted_at.is_(None)))
        ).all()
    return await soft_delete_documents(session, [i for i in stored if i not in live_ids])


async def collection_slugs_by_id(session: AsyncSession) -> dict[str, str]:
    """Sanity id -> slug of every stored collection, to resolve product references."""
    rows = await session.execute(select(Collection.sanity_id, Collection.slug))
    return dict(rows.all())


async def category_slugs_by_id(session: AsyncSession) -> dict[str, str]:
    """Sanity id -> slug of every stored category, to resolve product references."""
    rows = await session.execute(select(Category.sanity_id, Category.slug))
    return dict(rows.tuples().all())
