"""The Sanity adapter: export parsing, webhook signatures and the GROQ client over real HTTP."""

from __future__ import annotations

import copy
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from catalog_helpers import SANITY_QUERY_PATH, SANITY_TOKEN
from elysium.catalog import sanity
from elysium.catalog.records import CollectionRecord, LineError, ProductRecord
from elysium.catalog.sanity import (
    SIGNATURE_HEADER_NAME,
    InvalidDocumentError,
    InvalidSignatureError,
    SanityClient,
    SanityRequestError,
    SanityResponseError,
    SanityUnavailableError,
    normalize_document,
    parse_ndjson_export,
    sign_webhook_payload,
    verify_webhook_signature,
)
from elysium.demo import DEMO_CATALOGUE
from factories import SANITY_WEBHOOK_SECRET
from peers.http_server import QuietHandler, serving

DEMO_LINES = DEMO_CATALOGUE.read_text(encoding="utf-8").splitlines()
DEMO_DOCS = [json.loads(line) for line in DEMO_LINES]


def _demo_doc(sanity_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(doc for doc in DEMO_DOCS if doc["_id"] == sanity_id))


# --- NDJSON exports --------------------------------------------------------------------------


def test_parses_the_demo_export() -> None:
    batch = parse_ndjson_export(DEMO_LINES)

    assert [c.slug for c in batch.collections] == ["bridal", "fine", "high", "bespoke"]
    assert len(batch.products) == 18
    assert len(batch.image_urls) == 23  # one per product, a second or third for four
    assert [c.slug for c in batch.categories][:3] == ["rings", "engagement-rings", "wedding-bands"]
    assert batch.drafts_skipped == 1
    assert batch.errors == []
    assert batch.warnings == []


def test_demo_product_is_normalised_with_resolved_references() -> None:
    batch = parse_ndjson_export(DEMO_LINES)
    aurora = next(p for p in batch.products if p.slug == "aurora-solitaire")

    assert aurora.sanity_id == "product.aurora-solitaire"
    assert aurora.rev == "rev-aurora-solitaire"
    assert aurora.updated_at == datetime(2025, 10, 1, 9, tzinfo=UTC)
    assert aurora.title == "Aurora Solitaire Engagement Ring"
    assert aurora.description is not None
    assert aurora.collection_slug == "bridal"
    assert aurora.category == "rings"
    assert aurora.image_url == (
        "https://cdn.sanity.io/images/elysium/production/0000a1b2c3d4e5f6-1600x1600.jpg"
    )
    assert aurora.base_price_pence == 3950_00  # the draft's basePrice of 1 is ignored
    assert aurora.inventory_options == ("carat", "metal")
    assert aurora.engraving is not None
    assert aurora.engraving.price_pence == 95_00
    assert not aurora.made_to_order
    assert aurora.lead_time_days == 0
    assert aurora.published
    assert aurora.raw == _demo_doc("product.aurora-solitaire")
    assert aurora.spec_json["options"][0]["values"][3]["price_delta_pence"] == 850_00


def test_every_demo_product_belongs_to_a_collection_and_has_an_image() -> None:
    batch = parse_ndjson_export(DEMO_LINES)
    made_to_order = {p.slug for p in batch.products if p.made_to_order}

    assert all(p.collection_slug and p.image_url for p in batch.products)
    assert made_to_order == {"bespoke-engagement-ring", "bespoke-signet"}


AURORA_LINE = next(i for i, line in enumerate(DEMO_LINES) if '"product.aurora-solitaire"' in line)


def _product(slug: str, **changes: Any) -> str:
    doc = _demo_doc("product.nova-pendant")
    doc.update({"_id": f"product.{slug}", "slug": {"_type": "slug", "current": slug}, **changes})
    return json.dumps(doc)


def test_malformed_lines_are_reported_with_their_line_numbers() -> None:
    no_slug = json.loads(_product("x"))
    del no_slug["slug"]
    extra = [
        "{not json",  # 54
        "[1, 2, 3]",  # 55
        json.dumps({"_type": "product"}),  # 56
        json.dumps({"_id": "product.nameless"}),  # 57
        json.dumps(no_slug),  # 58
        _product("sub-penny", basePrice=12.345),  # 59
        DEMO_LINES[AURORA_LINE],  # 60: the aurora solitaire again
        _product("nova-pendant", _id="product.nova-copy"),  # 61: slug taken
        json.dumps({"_id": "image-broken", "_type": "sanity.imageAsset"}),  # 62
        "   ",  # 63: blank lines are fine
        json.dumps({"_id": "siteSettings", "_type": "siteSettings"}),  # 64
        _product("orphan", collection={"_ref": "collection.gone", "_type": "reference"}),  # 65
        "[" * 100_000,  # 66
    ]
    batch = parse_ndjson_export(DEMO_LINES + extra)

    assert [error.line for error in batch.errors] == [54, 55, 56, 57, 58, 59, 60, 61, 62, 66]
    assert "invalid JSON" in batch.errors[0].error
    assert "_id" in batch.errors[2].error
    assert "_type" in batch.errors[3].error
    assert "slug" in batch.errors[4].error
    assert "fraction of a penny" in batch.errors[5].error
    assert "duplicate _id" in batch.errors[6].error
    assert "duplicate product slug" in batch.errors[7].error
    assert batch.warnings == [LineError(65, "orphan: collection reference not found")]
    assert len(batch.products) == 19  # the demo's 18 and the orphan
    assert batch.other_types_skipped == 1


def test_reads_lines_straight_from_a_file() -> None:
    with DEMO_CATALOGUE.open(encoding="utf-8") as handle:
        assert len(parse_ndjson_export(handle).products) == 18


def test_portable_text_descriptions_become_plain_text() -> None:
    doc = _demo_doc("collection.bridal")
    doc["description"] = [
        {"_type": "block", "children": [{"_type": "span", "text": "Rings "}, {"text": "& bands"}]},
        {"_type": "image"},
        {"_type": "block", "children": [{"_type": "span", "text": "Made in London."}]},
    ]
    record = normalize_document(doc)
    assert isinstance(record, CollectionRecord)
    assert record.description == "Rings & bands\n\nMade in London."


def test_projection_fields_resolve_references_without_the_referenced_documents() -> None:
    doc = _demo_doc("product.orbit-hoops") | {
        "collectionSlug": "fine",
        "imageUrl": "https://cdn.sanity.io/images/x/y/z.jpg",
    }
    record = normalize_document(doc)

    assert isinstance(record, ProductRecord)
    assert record.collection_slug == "fine"
    assert record.image_url == "https://cdn.sanity.io/images/x/y/z.jpg"
    assert record.raw == _demo_doc("product.orbit-hoops")


def test_a_draft_normalises_as_unpublished() -> None:
    record = normalize_document(_demo_doc("drafts.product.aurora-solitaire"))
    assert not record.published


def test_only_products_and_collections_normalise() -> None:
    with pytest.raises(InvalidDocumentError):
        normalize_document(_demo_doc("image-0000a1b2c3d4e5f6-1600x1600-jpg"))


# --- webhook signatures ----------------------------------------------------------------------

# Vectors from @sanity/webhook's own test suite (sanity-io/webhook-toolkit, test/signature.test.ts).
OFFICIAL_VECTORS = [
    (
        b'{"_id":"resume"}',
        "test",
        "t=1633519811129,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0",
    ),
    (
        b'{"title":"GROQ-Hooks are neat"}',
        "try-me",
        "t=1633518820676,v1=e7C9h2sfbFfc4V7TEz7PSOp4IoNzl0UdVsBV-1wgdeA",
    ),
]
BODY = DEMO_LINES[5].encode()
NOW_MS = 1_760_000_000_000


@pytest.mark.parametrize(("body", "secret", "header"), OFFICIAL_VECTORS)
def test_matches_the_official_package(body: bytes, secret: str, header: str) -> None:
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert sign_webhook_payload(body, secret, timestamp) == header
    verify_webhook_signature(body, header, secret, now_ms=timestamp)


def test_accepts_a_space_after_the_comma() -> None:
    body, secret, header = OFFICIAL_VECTORS[0]
    verify_webhook_signature(body, header.replace(",", ", "), secret, now_ms=1633519811129)


def test_accepts_a_fresh_signature_on_the_real_clock() -> None:
    header = sign_webhook_payload(BODY, SANITY_WEBHOOK_SECRET, time.time_ns() // 1_000_000)
    verify_webhook_signature(BODY, header, SANITY_WEBHOOK_SECRET)
    assert SIGNATURE_HEADER_NAME == "sanity-webhook-signature"


def test_accepts_a_signature_just_inside_the_tolerance() -> None:
    header = sign_webhook_payload(BODY, SANITY_WEBHOOK_SECRET, NOW_MS - 299_000)
    verify_webhook_signature(
        BODY, header, SANITY_WEBHOOK_SECRET, now_ms=NOW_MS, tolerance_seconds=300
    )


def _valid_header() -> str:
    return sign_webhook_payload(BODY, SANITY_WEBHOOK_SECRET, NOW_MS)


@pytest.mark.parametrize(
    ("body", "header", "secret", "message"),
    [
        (BODY + b" ", _valid_header(), SANITY_WEBHOOK_SECRET, "does not match"),
        (BODY, _valid_header(), "another-secret", "does not match"),
        (BODY, _valid_header()[:-1] + "A", SANITY_WEBHOOK_SECRET, "does not match"),
        (BODY, _valid_header().replace("v1=", "v5="), SANITY_WEBHOOK_SECRET, "malformed"),
        (BODY, None, SANITY_WEBHOOK_SECRET, "malformed"),
        (BODY, "", SANITY_WEBHOOK_SECRET, "malformed"),
        (BODY, "sha256=abc", SANITY_WEBHOOK_SECRET, "malformed"),
        (BODY, f"t={'9' * 5000},v1=abc", SANITY_WEBHOOK_SECRET, "malformed"),
        (
            BODY,
            sign_webhook_payload(BODY, SANITY_WEBHOOK_SECRET, NOW_MS // 1000),
            SANITY_WEBHOOK_SECRET,
            "milliseconds",
        ),
        (
            BODY,
            sign_webhook_payload(BODY, SANITY_WEBHOOK_SECRET, NOW_MS - 301_000),
            SANITY_WEBHOOK_SECRET,
            "tolerance",
        ),
        (
            BODY,
            sign_webhook_payload(BODY, SANITY_WEBHOOK_SECRET, NOW_MS + 301_000),
            SANITY_WEBHOOK_SECRET,
            "tolerance",
        ),
        (BODY, _valid_header(), "", "no webhook secret"),
    ],
    ids=[
        "tampered-body",
        "wrong-secret",
        "tampered-signature",
        "unknown-version",
        "missing",
        "empty",
        "garbage",
        "absurd-timestamp",
        "seconds-not-milliseconds",
        "expired",
        "from-the-future",
        "no-secret-configured",
    ],
)
def test_refuses_bad_signatures(body: bytes, header: str | None, secret: str, message: str) -> None:
    with pytest.raises(InvalidSignatureError, match=message):
        verify_webhook_signature(body, header, secret, now_ms=NOW_MS)


# --- a local HTTP server answering like Sanity's query API -----------------------------------


def _served_documents() -> list[dict[str, Any]]:
    """The demo export as the Content Lake holds it: image assets have timestamps too."""
    docs = copy.deepcopy(DEMO_DOCS)
    for doc in docs:
        doc.setdefault("_updatedAt", "2025-09-01T08:00:00Z")
    return docs


@dataclass
class FakeSanity:
    """Answers SYNC_QUERY and IDS_QUERY as the Content Lake would; records every request."""

    documents: list[dict[str, Any]] = field(default_factory=_served_documents)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.failures:
            status, headers = self.failures.pop(0)
            return status, headers, b'{"error": "try again"}'
        if path != SANITY_QUERY_PATH:
            return 404, {}, b'{"error": "not found"}'
        params = {k[1:]: json.loads(v) for k, v in query.items() if k.startswith("$")}
        if query.get("query") == sanity.SYNC_QUERY:
            result: list[Any] = self._since(params)
        elif query.get("query") == sanity.IDS_QUERY:
            result = self._ids(params)
        else:
            return 400, {}, b'{"error": {"description": "unsupported query"}}'
        body = {"result": result, "ms": 1, "query": query["query"]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def _published(self, types: list[str]) -> list[dict[str, Any]]:
        return [
            d
            for d in self.documents
            if d["_type"] in types and not d["_id"].startswith(("drafts.", "versions."))
        ]

    def _since(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = (p["since"], p["lastId"])
        matching = [d for d in self._published(p["types"]) if (d["_updatedAt"], d["_id"]) > cursor]
        matching.sort(key=lambda d: (d["_updatedAt"], d["_id"]))
        return matching[: p["limit"]]

    def _ids(self, p: dict[str, Any]) -> list[str]:
        ids = sorted(d["_id"] for d in self._published(p["types"]) if d["_id"] > p["lastId"])
        return ids[: p["limit"]]


class _Handler(QuietHandler):
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        fake = self.server.fake
        fake.requests.append(query)
        fake.headers.append(dict(self.headers.items()))
        answer: tuple[int, dict[str, str], bytes] = (401, {}, b'{"error": "unauthorized"}')
        if self.headers.get("Authorization") == f"Bearer {SANITY_TOKEN}":
            answer = fake.answer(url.path, query)
        status, headers, body = answer
        self.reply(status, body, headers)


class _Server(ThreadingHTTPServer):
    fake: FakeSanity


@pytest.fixture
def fake_sanity() -> Iterator[tuple[FakeSanity, str]]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeSanity()
    with serving(server) as url:
        yield server.fake, url


class _Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _client(base_url: str, sleeps: _Sleeps | None = None, **options: Any) -> SanityClient:
    return SanityClient(
        project_id="elysium",
        dataset="production",
        api_version="2025-02-19",
        token=options.pop("token", SANITY_TOKEN),
        base_url=base_url,
        backoff_seconds=0.1,
        sleep=sleeps if sleeps is not None else _Sleeps(),
        **options,
    )


async def test_fetches_every_published_document_over_several_pages(
    fake_sanity: tuple[FakeSanity, str],
) -> None:
    fake, url = fake_sanity
    async with _client(url) as client:
        docs = [doc async for doc in client.fetch_documents_since(None, page_size=7)]

    published = [d for d in fake.documents if not d["_id"].startswith("drafts.")]
    assert len(docs) == len(published) == 52
    assert [(d["_updatedAt"], d["_id"]) for d in docs] == sorted(
        (d["_updatedAt"], d["_id"]) for d in published
    )
    assert len(fake.requests) == 8  # 7 full pages of 7, then 3
    second = fake.requests[1]
    assert json.loads(second["$since"]) == docs[6]["_updatedAt"]
    assert json.loads(second["$lastId"]) == docs[6]["_id"]
    assert second["$limit"] == "7"
    assert second["perspective"] == "published"
    assert fake.headers[0]["Authorization"] == f"Bearer {SANITY_TOKEN}"


async def test_pages_through_documents_sharing_one_timestamp(
    fake_sanity: tuple[FakeSanity, str],
) -> None:
    fake, url = fake_sanity
    async with _client(url) as client:
        docs = [d async for d in client.fetch_documents_since(None, page_size=3, types=["product"])]

    assert [d["_id"] for d in docs] == sorted(
        d["_id"] for d in fake.documents if d["_type"] == "product" and "drafts." not in d["_id"]
    )
    assert len({d["_updatedAt"] for d in docs}) == 1


async def test_fetches_only_what_changed_since_a_moment(
    fake_sanity: tuple[FakeSanity, str],
) -> None:
    fake, url = fake_sanity
    for doc in fake.documents[:3]:
        doc["_updatedAt"] = "2025-11-05T10:00:00Z"
    async with _client(url) as client:
        since = datetime(2025, 11, 5, 10, tzinfo=UTC)
        docs = [doc async for doc in client.fetch_documents_since(since)]

    assert sorted(d["_id"] for d in docs) == sorted(d["_id"] for d in fake.documents[:3])
    assert json.loads(fake.requests[0]["$since"]) == "2025-11-05T10:00:00Z"


async def test_synced_documents_normalise(fake_sanity: tuple[FakeSanity, str]) -> None:
    _, url = fake_sanity
    async with _client(url) as client:
        docs = [d async for d in client.fetch_documents_since(None, types=["product"])]

    records = [normalize_document(d) for d in docs]
    assert all(isinstance(r, ProductRecord) and r.published for r in records)


async def test_retries_after_503_and_429(fake_sanity: tuple[FakeSanity, str]) -> None:
    fake, url = fake_sanity
    fake.failures = [(503, {}), (429, {"Retry-After": "3"}), (502, {})]
    sleeps = _Sleeps()
    async with _client(url, sleeps) as client:
        docs = [doc async for doc in client.fetch_documents_since(None, page_size=100)]

    assert len(docs) == 52
    assert len(fake.requests) == 4
    assert 0.05 <= sleeps[0] <= 0.1
    assert sleeps[1] == 3.0
    assert 0.2 <= sleeps[2] <= 0.4


async def test_gives_up_after_the_last_attempt(fake_sanity: tuple[FakeSanity, str]) -> None:
    fake, url = fake_sanity
    fake.failures = [(500, {})] * 3
    sleeps = _Sleeps()
    async with _client(url, sleeps, max_attempts=3) as client:
        with pytest.raises(SanityUnavailableError, match="HTTP 500"):
            await client.fetch_all_ids()

    assert len(fake.requests) == 3
    assert len(sleeps) == 2


async def test_retries_network_errors() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = _Sleeps()
    async with _client(f"http://127.0.0.1:{port}", sleeps, max_attempts=3) as client:
        with pytest.raises(SanityUnavailableError, match="ConnectError"):
            await client.query("count(*)")
    assert len(sleeps) == 2


async def test_client_errors_are_not_retried(fake_sanity: tuple[FakeSanity, str]) -> None:
    fake, url = fake_sanity
    async with _client(url, token="wrong") as client:
        with pytest.raises(SanityRequestError) as caught:
            await client.query(sanity.IDS_QUERY, {"types": ["product"], "lastId": "", "limit": 1})

    assert caught.value.status_code == 401
    assert len(fake.requests) == 1


async def test_an_unexpected_answer_is_an_error(fake_sanity: tuple[FakeSanity, str]) -> None:
    fake, url = fake_sanity
    fake.failures = [(200, {})]  # a 200 without a result
    async with _client(url) as client:
        with pytest.raises(SanityResponseError):
            await client.query("*[0]")


async def test_lists_all_ids_for_deletion_detection(fake_sanity: tuple[FakeSanity, str]) -> None:
    fake, url = fake_sanity
    async with _client(url) as client:
        ids = await client.fetch_all_ids(["product", "collection"], page_size=5)

    assert len(ids) == 22
    assert "product.aurora-solitaire" in ids
    assert "drafts.product.aurora-solitaire" not in ids
    assert len(fake.requests) == 5


def test_refuses_names_that_would_bend_the_url() -> None:
    with pytest.raises(ValueError, match="dataset"):
        SanityClient(project_id="elysium", dataset="../admin")
    with pytest.raises(ValueError, match="project_id"):
        SanityClient(project_id="evil.example.com/x", dataset="production")
