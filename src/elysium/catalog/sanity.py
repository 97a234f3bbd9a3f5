"""The only module that speaks to Sanity: dataset exports, the GROQ query API and webhooks.

Everything here turns Sanity documents into plain records (catalog/records.py:
`CollectionRecord`, `ProductRecord`); nothing here touches the database.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog

from elysium.catalog.pricing import (
    SLUG_PATTERN,
    InvalidProductSpecError,
    pounds_to_pence,
    product_spec_from_sanity,
)
from elysium.catalog.records import (
    CategoryRecord,
    CollectionRecord,
    ImageAsset,
    ImportBatch,
    LineError,
    ProductRecord,
)
from elysium.kit.breakers import CircuitOpenError, Provider, breaker

log = structlog.get_logger(__name__)

SIGNATURE_HEADER_NAME = "sanity-webhook-signature"
SYNCED_TYPES = ("product", "collection", "category", "sanity.imageAsset")
CATALOGUE_TYPES = ("product", "collection", "category")
UNPUBLISHED_PREFIXES = ("drafts.", "versions.")
# Filled in by RESOLVING_PROJECTION so that an incremental sync (or a webhook with the same
# projection) can name a product's collection and image without the referenced documents.
RESOLVED_COLLECTION_SLUG = "collectionSlug"
RESOLVED_IMAGE_URL = "imageUrl"
RESOLVED_CATEGORY_SLUG = "categorySlug"
RESOLVED_GALLERY = "imageGallery"
RESOLVED_KEYS = (
    RESOLVED_COLLECTION_SLUG,
    RESOLVED_IMAGE_URL,
    RESOLVED_CATEGORY_SLUG,
    RESOLVED_GALLERY,
)
RESOLVING_PROJECTION = (
    '{..., _type == "product" => {'
    f'"{RESOLVED_COLLECTION_SLUG}": collection->slug.current, '
    f'"{RESOLVED_IMAGE_URL}": coalesce(mainImage.asset->url, images[0].asset->url), '
    f'"{RESOLVED_CATEGORY_SLUG}": category->slug.current, '
    f'"{RESOLVED_GALLERY}": images[]{{"assetId": asset._ref, "url": asset->url, '
    '"width": asset->metadata.dimensions.width, "height": asset->metadata.dimensions.height}'
    "}}"
)
CERTIFICATE_FIELDS = ("laboratory", "number", "carat", "colour", "clarity", "cut")
_ASSET_SIZE = re.compile(r"-(\d{1,5})x(\d{1,5})-[a-z0-9]+$")
_PUBLISHED_ONLY = '!(_id in path("drafts.**")) && !(_id in path("versions.**"))'
SYNC_QUERY = (
    f"*[_type in $types && {_PUBLISHED_ONLY}"
    " && (_updatedAt > $since || (_updatedAt == $since && _id > $lastId))]"
    " | order(_updatedAt asc, _id asc) [0...$limit] " + RESOLVING_PROJECTION
)
IDS_QUERY = (
    f"*[_type in $types && {_PUBLISHED_ONLY} && _id > $lastId] | order(_id asc) [0...$limit]._id"
)

# The package refuses timestamps before 2021: it never signed earlier, and a smaller number is
# most likely seconds where milliseconds are due.
_MINIMUM_SIGNATURE_MS = 1_609_459_200_000
_SIGNATURE_HEADER = re.compile(r"^t=(\d{1,16})[, ]+v1=([^, ]+)$")


# --- errors ------------------------------------------------------------------------------------


class SanityError(Exception):
    """Base of every failure talking to Sanity."""


class SanityUnavailableError(SanityError):
    """Sanity kept failing (network, 429, 5xx) until the retries ran out."""


class SanityRequestError(SanityError):
    """Sanity refused the request (4xx other than 429): retrying will not help."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"Sanity answered {status_code}: {detail}")
        self.status_code = status_code


class SanityResponseError(SanityError):
    """Sanity answered with something that is not a query result."""


class InvalidDocumentError(ValueError):
    """A Sanity document cannot be turned into a record."""


class InvalidSignatureError(Exception):
    """A webhook's signature is missing, malformed, wrong or too old."""


# --- normalising documents -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class References:
    """What references resolve to (Sanity id -> slug, URL or asset) where known."""

    collection_slugs: Mapping[str, str] = field(default_factory=dict)
    category_slugs: Mapping[str, str] = field(default_factory=dict)
    image_urls: Mapping[str, str] = field(default_factory=dict)
    image_assets: Mapping[str, ImageAsset] = field(default_factory=dict)


def normalize_document(
    doc: Mapping[str, Any],
    *,
    collection_slugs: Mapping[str, str] | None = None,
    image_urls: Mapping[str, str] | None = None,
    refs: References | None = None,
) -> CollectionRecord | CategoryRecord | ProductRecord:
    """Turn a `collection`, `category` or `product` document into a record;
    InvalidDocumentError if unfit.

    References resolve through the given maps (Sanity id -> slug / URL), falling back to the
    fields RESOLVING_PROJECTION adds. Drafts are accepted, with `published=False`.
    """
    refs = refs or References(collection_slugs=collection_slugs or {}, image_urls=image_urls or {})
    doc_type = doc.get("_type")
    if doc_type == "collection":
        return _collection_record(doc)
    if doc_type == "category":
        return _category_record(doc)
    if doc_type == "product":
        return _product_record(doc, refs)
    raise InvalidDocumentError(
        f"not a collection, category or product: _type={str(doc_type)[:64]!r}"
    )


def _collection_record(doc: Mapping[str, Any]) -> CollectionRecord:
    return CollectionRecord(
        sanity_id=_text(doc, "_id"),
        rev=_optional_text(doc, "_rev"),
        updated_at=_updated_at(doc),
        slug=_slug(doc),
        title=_text(doc, "title"),
        description=_plain_text(doc.get("description")),
        published=is_published_id(_text(doc, "_id")),
        raw=dict(doc),
    )


def _category_record(doc: Mapping[str, Any]) -> CategoryRecord:
    order = doc.get("sortOrder")
    return CategoryRecord(
        sanity_id=_text(doc, "_id"),
        rev=_optional_text(doc, "_rev"),
        updated_at=_updated_at(doc),
        slug=_slug(doc),
        title=_text(doc, "title"),
        description=_plain_text(doc.get("description")),
        parent_sanity_id=_ref(doc.get("parent")),
        sort_order=order if isinstance(order, int) and not isinstance(order, bool) else 0,
        published=is_published_id(_text(doc, "_id")),
        raw=dict(doc),
    )


def _product_record(doc: Mapping[str, Any], refs: References) -> ProductRecord:
    raw = {k: v for k, v in doc.items() if k not in RESOLVED_KEYS}
    try:
        spec = product_spec_from_sanity(raw)
    except InvalidProductSpecError as exc:
        raise InvalidDocumentError(f"product cannot be priced: {exc}") from exc
    collection_ref, image_ref = _ref(doc.get("collection")), _image_ref(doc)
    title = _text(doc, "title")
    images = _gallery(doc, refs, title)
    return ProductRecord(
        sanity_id=_text(doc, "_id"),
        rev=_optional_text(doc, "_rev"),
        updated_at=_updated_at(doc),
        slug=spec.slug,
        title=title,
        description=_plain_text(doc.get("description")),
        collection_slug=refs.collection_slugs.get(collection_ref or "")
        or _optional_text(doc, RESOLVED_COLLECTION_SLUG),
        category=_category_slug(doc, refs),
        image_url=refs.image_urls.get(image_ref or "")
        or _optional_text(doc, RESOLVED_IMAGE_URL)
        or (images[0]["url"] if images else None),
        lead_time_days=_lead_time(doc.get("leadTimeDays")),
        published=is_published_id(_text(doc, "_id")),
        spec=spec,
        raw=raw,
        sku=_sku(doc.get("sku")),
        compare_at_price_pence=_compare_at(doc.get("compareAtPrice"), spec.base_price_pence),
        featured=doc.get("featured") is True,
        images=images,
        certificate=_certificate(doc.get("certificate")),
        created_at=_created_at(doc),
    )


def _category_slug(doc: Mapping[str, Any], refs: References) -> str | None:
    """A plain slug (`"rings"`), or a reference to a `category` document."""
    value = doc.get("category")
    if isinstance(value, str):
        return value or None
    ref = _ref(value)
    return refs.category_slugs.get(ref or "") or _optional_text(doc, RESOLVED_CATEGORY_SLUG)


def _sku(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}", value):
        raise InvalidDocumentError("sku must be up to 64 letters, digits, '.', '_', '/', '-'")
    return value


def _compare_at(value: object, base_price_pence: int) -> int | None:
    """The price before the sale; it must be above the price, or a sale would not show."""
    if value is None:
        return None
    try:
        pence = pounds_to_pence(value)
    except InvalidProductSpecError as exc:
        raise InvalidDocumentError(f"compareAtPrice: {exc}") from exc
    if pence <= base_price_pence:
        raise InvalidDocumentError("compareAtPrice must be above basePrice")
    return pence


def _certificate(value: object) -> dict[str, Any] | None:
    """A diamond grading certificate: laboratory (GIA, IGI ...), number, carat and the grades."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidDocumentError("certificate must be an object")
    found = {
        "laboratory": value.get("laboratory") or value.get("lab"),
        "number": value.get("number"),
        "carat": value.get("carat"),
        "colour": value.get("colour") or value.get("color"),
        "clarity": value.get("clarity"),
        "cut": value.get("cut"),
    }
    if isinstance(found["carat"], int | float) and not isinstance(found["carat"], bool):
        found["carat"] = f"{found['carat']:.2f}"
    checked: dict[str, Any] = {}
    for key in CERTIFICATE_FIELDS:
        item = found[key]
        if not isinstance(item, str) or not item.strip() or len(item) > 64:
            raise InvalidDocumentError(f"certificate.{key} is missing or not short text")
        checked[key] = item.strip()
    if not re.fullmatch(r"\d{1,3}(\.\d{1,3})?", checked["carat"]):
        raise InvalidDocumentError("certificate.carat must be a number of carats such as 1.01")
    checked["laboratory"] = checked["laboratory"].upper()
    return checked


def _asset_size(asset_id: str) -> tuple[int, int] | None:
    """Sanity names image assets `image-<hash>-<width>x<height>-<format>`."""
    match = _ASSET_SIZE.search(asset_id)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _gallery(doc: Mapping[str, Any], refs: References, title: str) -> tuple[dict[str, Any], ...]:
    """Every image with its URL, alt text (the title when none is given), width and height;
    images whose asset cannot be resolved are left out."""
    images = doc.get("images")
    resolved = doc.get(RESOLVED_GALLERY)
    by_asset = {
        item.get("assetId"): item
        for item in (resolved if isinstance(resolved, list) else [])
        if isinstance(item, Mapping)
    }
    gallery: list[dict[str, Any]] = []
    for image in images if isinstance(images, list) else []:
        ref = _ref(image.get("asset")) if isinstance(image, Mapping) else None
        if not ref:
            continue
        assert isinstance(image, Mapping)
        entry = _gallery_entry(ref, refs.image_assets.get(ref), by_asset.get(ref))
        if entry is not None:
            alt = image.get("alt")
            entry["alt"] = alt.strip() if isinstance(alt, str) and alt.strip() else title
            gallery.append(entry)
    return tuple(gallery)


def _gallery_entry(
    ref: str, asset: ImageAsset | None, resolved: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    if asset is not None:
        return {"url": asset.url, "width": asset.width, "height": asset.height}
    url = resolved.get("url") if resolved else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    assert resolved is not None
    width, height = resolved.get("width"), resolved.get("height")
    if not (isinstance(width, int) and isinstance(height, int)):
        size = _asset_size(ref)
        if size is None:
            return None
        width, height = size
    return {"url": url, "width": width, "height": height}


def _created_at(doc: Mapping[str, Any]) -> datetime | None:
    raw = doc.get("_createdAt")
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def is_published_id(sanity_id: str) -> bool:
    """False for drafts (`drafts.`) and release versions (`versions.`)."""
    return not sanity_id.startswith(UNPUBLISHED_PREFIXES)


def _text(doc: Mapping[str, Any], key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidDocumentError(f"{key} is missing or not text")
    return value


def _optional_text(doc: Mapping[str, Any], key: str) -> str | None:
    value = doc.get(key)
    return value if isinstance(value, str) and value else None


def _slug(doc: Mapping[str, Any]) -> str:
    slug = doc.get("slug")
    current = slug.get("current") if isinstance(slug, Mapping) else None
    if not isinstance(current, str) or not re.fullmatch(SLUG_PATTERN, current):
        raise InvalidDocumentError("slug is missing or not lowercase letters, digits, - and _")
    return current


def _updated_at(doc: Mapping[str, Any]) -> datetime:
    raw = doc.get("_updatedAt") or doc.get("_createdAt")
    if not isinstance(raw, str):
        raise InvalidDocumentError("_updatedAt is missing")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidDocumentError("_updatedAt is not an RFC 3339 timestamp") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _plain_text(value: object) -> str | None:
    """A plain string, or the text of Portable Text blocks, paragraphs separated by blank lines."""
    if isinstance(value, str):
        return value or None
    if not isinstance(value, list):
        return None
    paragraphs = [_block_text(block) for block in value]
    return "\n\n".join(p for p in paragraphs if p) or None


def _block_text(block: object) -> str:
    if not isinstance(block, dict) or block.get("_type") != "block":
        return ""
    children = block.get("children")
    spans = children if isinstance(children, list) else []
    return "".join(
        s["text"] for s in spans if isinstance(s, dict) and isinstance(s.get("text"), str)
    )


def _ref(value: object) -> str | None:
    ref = value.get("_ref") if isinstance(value, Mapping) else None
    return ref if isinstance(ref, str) and ref else None


def _image_ref(doc: Mapping[str, Any]) -> str | None:
    """The asset of `mainImage`, else of the first of `images` that has one."""
    images = doc.get("images")
    candidates = [doc.get("mainImage"), *(images if isinstance(images, list) else [])]
    for image in candidates:
        ref = _ref(image.get("asset")) if isinstance(image, Mapping) else None
        if ref:
            return ref
    return None


def _lead_time(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# --- NDJSON exports --------------------------------------------------------------------------


def parse_ndjson_export(lines: Iterable[str]) -> ImportBatch:
    """Parse a dataset export (`sanity dataset export`, one document a line).

    Drafts are skipped; broken lines land in `errors`, dangling references in `warnings`.
    """
    batch = ImportBatch()
    documents = _read_documents(lines, batch)
    batch.collections = [
        r for r in _normalize_all(documents, "collection", batch) if isinstance(r, CollectionRecord)
    ]
    batch.categories = [
        r for r in _normalize_all(documents, "category", batch) if isinstance(r, CategoryRecord)
    ]
    refs = References(
        collection_slugs={c.sanity_id: c.slug for c in batch.collections},
        category_slugs={c.sanity_id: c.slug for c in batch.categories},
        image_urls=batch.image_urls,
        image_assets=batch.image_assets,
    )
    batch.products = [
        r for r in _normalize_all(documents, "product", batch, refs) if isinstance(r, ProductRecord)
    ]
    batch.errors.sort()
    return batch


def _read_documents(lines: Iterable[str], batch: ImportBatch) -> list[tuple[int, dict[str, Any]]]:
    """First pass: JSON-decode, skip drafts, collect image URLs; keep products and collections."""
    kept: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        doc, error = _decode(line)
        if error is None and doc["_id"] in seen:
            error = f"duplicate _id {doc['_id'][:100]!r}"
        if error is not None:
            batch.errors.append(LineError(number, error))
            continue
        seen.add(doc["_id"])
        if not is_published_id(doc["_id"]):
            batch.drafts_skipped += 1
        elif doc["_type"] == "sanity.imageAsset":
            _add_image(number, doc, batch)
        elif doc["_type"] in CATALOGUE_TYPES:
            kept.append((number, doc))
        else:
            batch.other_types_skipped += 1
    return kept


def _decode(line: str) -> tuple[dict[str, Any], str | None]:
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return {}, f"invalid JSON: {exc}"
    if not isinstance(doc, dict):
        return {}, "not a JSON object"
    for key in ("_id", "_type"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            return {}, f"{key} is missing or not text"
    return doc, None


def _add_image(line: int, doc: Mapping[str, Any], batch: ImportBatch) -> None:
    url = doc.get("url")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        batch.image_urls[doc["_id"]] = url
        size = _dimensions(doc) or _asset_size(doc["_id"])
        if size is not None:
            batch.image_assets[doc["_id"]] = ImageAsset(url, *size)
    else:
        batch.errors.append(LineError(line, "image asset without an http(s) url"))


def _dimensions(doc: Mapping[str, Any]) -> tuple[int, int] | None:
    metadata = doc.get("metadata")
    size = metadata.get("dimensions") if isinstance(metadata, Mapping) else None
    if not isinstance(size, Mapping):
        return None
    width, height = size.get("width"), size.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    return None


def _normalize_all(
    documents: Sequence[tuple[int, dict[str, Any]]],
    doc_type: str,
    batch: ImportBatch,
    refs: References | None = None,
) -> list[CollectionRecord | CategoryRecord | ProductRecord]:
    """Second pass for one type; the first document to claim a slug keeps it."""
    records: list[CollectionRecord | CategoryRecord | ProductRecord] = []
    slugs: set[str] = set()
    for line, doc in (item for item in documents if item[1]["_type"] == doc_type):
        try:
            record = normalize_document(doc, refs=refs or References())
        except InvalidDocumentError as exc:
            batch.errors.append(LineError(line, f"{doc_type} {doc['_id'][:100]!r}: {exc}"))
            continue
        if record.slug in slugs:
            batch.errors.append(LineError(line, f"duplicate {doc_type} slug {record.slug!r}"))
            continue
        slugs.add(record.slug)
        if isinstance(record, ProductRecord):
            _warn_on_dangling_refs(line, doc, record, batch)
        records.append(record)
    return records


def _warn_on_dangling_refs(
    line: int, doc: Mapping[str, Any], record: ProductRecord, batch: ImportBatch
) -> None:
    if _ref(doc.get("collection")) and record.collection_slug is None:
        batch.warnings.append(LineError(line, f"{record.slug}: collection reference not found"))
    if _image_ref(doc) and record.image_url is None:
        batch.warnings.append(LineError(line, f"{record.slug}: image asset not found"))
    if _ref(doc.get("category")) and record.category is None:
        batch.warnings.append(LineError(line, f"{record.slug}: category reference not found"))


# --- the GROQ query API ----------------------------------------------------------------------

Sleep = Callable[[float], Awaitable[None]]


class SanityClient:
    """Reads a dataset through the GROQ HTTP query API, retrying what is worth retrying."""

    def __init__(
        self,
        *,
        project_id: str,
        dataset: str,
        api_version: str = "2025-02-19",
        token: str | None = None,
        base_url: str | None = None,
        timeout_seconds: float = 10.0,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 10.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", project_id):
            raise ValueError("project_id must be lowercase letters, digits and dashes")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", dataset):
            raise ValueError("dataset must be lowercase letters, digits, '_' and '-'")
        if not re.fullmatch(r"v?(\d{4}-\d{2}-\d{2}|1|X)", api_version):
            raise ValueError("api_version must look like 2025-02-19")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        base = (base_url or f"https://{project_id}.api.sanity.io").rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "elysium-commerce"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._path = f"/v{api_version.removeprefix('v')}/data/query/{dataset}"
        self._http = httpx.AsyncClient(base_url=base, headers=headers, timeout=timeout_seconds)
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._sleep = sleep

    async def __aenter__(self) -> SanityClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def query(self, groq: str, params: Mapping[str, object] | None = None) -> Any:
        """Run a GROQ query (published perspective) and return its `result`."""
        query_params = {"query": groq, "perspective": "published"}
        query_params.update({f"${k}": json.dumps(v) for k, v in (params or {}).items()})
        response = await self._get(query_params)
        try:
            body = response.json()
        except ValueError as exc:
            raise SanityResponseError("response is not JSON") from exc
        if not isinstance(body, dict) or "result" not in body:
            raise SanityResponseError("response has no result")
        return body["result"]

    async def fetch_documents_since(
        self,
        updated_after: datetime | None = None,
        page_size: int = 100,
        types: Sequence[str] = SYNCED_TYPES,
    ) -> AsyncIterator[dict[str, Any]]:
        """Published documents of `types` updated at or after `updated_after`, oldest first.

        Keyset-paginated on (_updatedAt, _id), so edits during the sync are not skipped;
        documents updated exactly at `updated_after` come again (upserts are idempotent).
        """
        if not 1 <= page_size <= 10_000:
            raise ValueError("page_size must be between 1 and 10000")
        cursor = (_groq_datetime(updated_after) if updated_after else "", "")
        while True:
            params = {"types": list(types), "since": cursor[0], "lastId": cursor[1]}
            page = await self._page(SYNC_QUERY, {**params, "limit": page_size})
            for doc in page:
                yield doc
            if len(page) < page_size:
                return
            cursor = _next_cursor(page[-1], cursor)

    async def fetch_all_ids(
        self, types: Sequence[str] = SYNCED_TYPES, page_size: int = 1_000
    ) -> set[str]:
        """Ids of every published document of `types`; what is missing was deleted."""
        ids: set[str] = set()
        last_id = ""
        while True:
            params = {"types": list(types), "lastId": last_id, "limit": page_size}
            page = await self._page(IDS_QUERY, params)
            if not all(isinstance(i, str) for i in page):
                raise SanityResponseError("id query returned something other than ids")
            ids.update(page)
            if len(page) < page_size:
                return ids
            if page[-1] <= last_id:
                raise SanityResponseError("id pagination did not advance")
            last_id = page[-1]

    async def _page(self, groq: str, params: Mapping[str, object]) -> list[Any]:
        result = await self.query(groq, params)
        if not isinstance(result, list):
            raise SanityResponseError("query result is not a list")
        return result

    async def _get(self, params: Mapping[str, str]) -> httpx.Response:
        """One request, retried with backoff, through Sanity's circuit breaker: a request that
        exhausts its retries counts as an outage, and while the breaker is open requests fail
        at once as `SanityUnavailableError`."""
        try:
            async with breaker(
                Provider.SANITY, outage=lambda exc: isinstance(exc, SanityUnavailableError)
            ):
                return await self._get_with_retries(params)
        except CircuitOpenError as exc:
            raise SanityUnavailableError(str(exc)) from exc

    async def _get_with_retries(self, params: Mapping[str, str]) -> httpx.Response:
        failure = ""
        for attempt in range(1, self._max_attempts + 1):
            retry_after: float | None = None
            try:
                response = await self._http.get(self._path, params=params)
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}"
            else:
                if not _is_retryable(response.status_code):
                    if response.is_error:
                        raise SanityRequestError(response.status_code, response.text[:500])
                    return response
                failure, retry_after = f"HTTP {response.status_code}", _retry_after(response)
            if attempt < self._max_attempts:
                delay = self._delay(attempt, retry_after)
                log.warning("sanity.retry", attempt=attempt, failure=failure, delay=delay)
                await self._sleep(delay)
        raise SanityUnavailableError(f"gave up after {self._max_attempts} attempts: {failure}")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter, or the server's Retry-After; capped either way."""
        if retry_after is not None:
            return min(retry_after, self._max_backoff)
        ceiling = min(self._backoff * 2 ** (attempt - 1), self._max_backoff)
        return random.uniform(ceiling / 2, ceiling)


def _is_retryable(status_code: int) -> bool:
    return status_code in (408, 429) or status_code >= 500


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _groq_datetime(moment: datetime) -> str:
    """Sanity's own `_updatedAt` format, so string comparison in GROQ orders correctly."""
    if moment.tzinfo is None:
        raise ValueError("updated_after must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _next_cursor(last: object, cursor: tuple[str, str]) -> tuple[str, str]:
    if not isinstance(last, dict):
        raise SanityResponseError("query result holds something other than documents")
    updated, doc_id = last.get("_updatedAt"), last.get("_id")
    if not isinstance(updated, str) or not isinstance(doc_id, str):
        raise SanityResponseError("document without _updatedAt or _id")
    if (updated, doc_id) <= cursor:
        raise SanityResponseError("pagination did not advance")
    return updated, doc_id


# --- webhooks ------------------------------------------------------------------------------------


def sign_webhook_payload(raw_body: bytes, secret: str, timestamp_ms: int) -> str:
    """The `sanity-webhook-signature` header value Sanity would send for this body."""
    if not secret:
        raise ValueError("a webhook secret is required")
    message = str(timestamp_ms).encode() + b"." + raw_body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return f"t={timestamp_ms},v1={signature}"


def verify_webhook_signature(
    raw_body: bytes,
    header: str | None,
    secret: str,
    now_ms: int | None = None,
    tolerance_seconds: int = 300,
) -> None:
    """Check a Sanity webhook as `@sanity/webhook` does, plus a freshness window.

    Raises InvalidSignatureError when the header is missing or malformed, the signature does
    not match the raw body, or the timestamp is further than `tolerance_seconds` from now.
    """
    if not secret:
        raise InvalidSignatureError("no webhook secret is configured")
    match = _SIGNATURE_HEADER.fullmatch((header or "").strip())
    if match is None:
        raise InvalidSignatureError("missing or malformed signature header")
    timestamp_ms = int(match.group(1))
    if timestamp_ms < _MINIMUM_SIGNATURE_MS:
        raise InvalidSignatureError("signature timestamp is not in milliseconds")
    expected = sign_webhook_payload(raw_body, secret, timestamp_ms).partition(",v1=")[2]
    if not hmac.compare_digest(expected.encode(), match.group(2).encode()):
        raise InvalidSignatureError("signature does not match")
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if abs(now - timestamp_ms) > tolerance_seconds * 1000:
        raise InvalidSignatureError("signature timestamp is outside the tolerance window")
