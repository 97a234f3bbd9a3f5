"""Helpers shared by the catalogue tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from elysium.catalog.importer import ApplyResult, Record, apply_sanity_documents
from elysium.catalog.sanity import sign_webhook_payload
from elysium.demo import DEMO_CATALOGUE
from factories import SANITY_WEBHOOK_SECRET

SANITY_TOKEN = "sk-sanity-test"  # what the local Sanity fakes accept as `Bearer` token
SANITY_QUERY_PATH = "/v2025-02-19/data/query/production"  # the GROQ API path of the default dataset


def demo_documents() -> list[dict[str, Any]]:
    """Every document of the demo export, as Sanity holds them."""
    with DEMO_CATALOGUE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def demo_document(sanity_id: str) -> dict[str, Any]:
    return next(d for d in demo_documents() if d["_id"] == sanity_id)


async def apply_records(app: FastAPI, records: list[Record]) -> ApplyResult:
    """Upsert records in a committed transaction of their own."""
    async with app.state.sessionmaker() as session, session.begin():
        return await apply_sanity_documents(session, records)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 3.0) -> None:
    """Wait until `check` passes: cache invalidation arrives by NOTIFY, a moment after commit."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def deliver_webhook(
    client: AsyncClient,
    doc: object,
    *,
    secret: str = SANITY_WEBHOOK_SECRET,
    age_seconds: int = 0,
    headers: dict[str, str] | None = None,
) -> Response:
    """POST a document to the Sanity webhook, signed as Sanity signs it."""
    body = json.dumps(doc).encode()
    stamp = time.time_ns() // 1_000_000 - age_seconds * 1000
    signed = {"sanity-webhook-signature": sign_webhook_payload(body, secret, stamp)}
    return await client.post(
        "/api/webhooks/sanity",
        content=body,
        headers=signed | {"content-type": "application/json"} | (headers or {}),
    )
