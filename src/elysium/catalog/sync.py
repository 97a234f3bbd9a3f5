"""Catalogue imports: an NDJSON dataset export, or an incremental sync from Sanity's query API."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.catalog.importer import (
    ApplyResult,
    Record,
    apply_sanity_documents,
    soft_delete_missing,
)
from elysium.catalog.records import ImportBatch
from elysium.catalog.sanity import (
    CATALOGUE_TYPES,
    InvalidDocumentError,
    SanityClient,
    normalize_document,
    parse_ndjson_export,
)
from elysium.config import Settings
from elysium.errors import ServiceUnavailableError
from elysium.models import Category, Collection, Product


@dataclass(slots=True)
class SyncResult:
    """What a sync fetched, changed and could not use."""

    fetched: int = 0
    applied: ApplyResult = field(default_factory=ApplyResult)
    deleted: int = 0
    errors: list[str] = field(default_factory=list)


async def import_ndjson(
    session: AsyncSession, lines: Iterable[str]
) -> tuple[ImportBatch, ApplyResult]:
    """Apply every usable document of an export; broken lines are reported, never half-applied."""
    batch = parse_ndjson_export(lines)
    applied = await apply_sanity_documents(
        session, [*batch.collections, *batch.categories, *batch.products]
    )
    return batch, applied


def sanity_client(settings: Settings) -> SanityClient:
    """A query API client configured from SANITY_* settings."""
    if not settings.sanity_project_id:
        raise ServiceUnavailableError("SANITY_PROJECT_ID is not set.")
    token = settings.sanity_token.get_secret_value() if settings.sanity_token else None
    return SanityClient(
        project_id=settings.sanity_project_id,
        dataset=settings.sanity_dataset,
        api_version=settings.sanity_api_version,
        token=token,
        base_url=settings.sanity_api_base,
    )


async def newest_sanity_update(session: AsyncSession) -> datetime | None:
    """The latest `_updatedAt` stored, where an incremental sync resumes."""
    moments = union_all(
        select(func.max(Product.sanity_updated_at).label("moment")),
        select(func.max(Collection.sanity_updated_at).label("moment")),
        select(func.max(Category.sanity_updated_at).label("moment")),
    ).subquery()
    newest: datetime | None = await session.scalar(select(func.max(moments.c.moment)))
    return newest


async def sync_catalog(
    session: AsyncSession,
    client: SanityClient,
    on_document: Callable[[], None] | None = None,
    batch_size: int = 100,
) -> SyncResult:
    """Fetch what changed since the newest stored update, apply it, soft-delete what is gone."""
    result = SyncResult()
    pending: list[Record] = []
    async for doc in client.fetch_documents_since(await newest_sanity_update(session), batch_size):
        result.fetched += 1
        if doc.get("_type") in CATALOGUE_TYPES:
            try:
                pending.append(normalize_document(doc))
            except InvalidDocumentError as exc:
                result.errors.append(f"{str(doc.get('_id'))[:100]}: {exc}")
        if len(pending) >= batch_size:
            _add(result.applied, await apply_sanity_documents(session, pending))
            pending = []
        if on_document is not None:
            on_document()
    _add(result.applied, await apply_sanity_documents(session, pending))
    result.deleted = await soft_delete_missing(session, await client.fetch_all_ids(CATALOGUE_TYPES))
    return result


def _add(total: ApplyResult, part: ApplyResult) -> None:
    total.collections += part.collections
    total.products += part.products
    total.categories += part.categories
