"""`Idempotency-Key` for money-moving requests: the same key and body replay the first answer.

The key row is inserted first, in the request's transaction, with `ON CONFLICT DO NOTHING`.
A concurrent duplicate's insert waits on the unique index until the first transaction ends:
after a commit it finds the stored answer and replays it; after a rollback (the first request
failed) it owns the key and runs the request itself. So ten identical requests sent at once
make one order, and every one of them gets its answer.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.db import rows_affected, table_of
from elysium.errors import ConflictError
from elysium.models import IdempotencyKey

IdempotencyKeyHeader = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique key per intended request (e.g. a UUID); retries reuse it.",
    ),
]


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer given for a key."""

    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Claim:
    """Either the key is now ours (`row_id`) or it was answered before (`stored`)."""

    row_id: uuid.UUID | None
    stored: StoredAnswer | None


def request_fingerprint(scope: str, body: Mapping[str, Any]) -> str:
    """A hash of what was asked, so a key reused for a different request is caught."""
    canonical = json.dumps({"scope": scope, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


_KEYS = table_of(IdempotencyKey)
_CLAIM = (
    insert(_KEYS)
    .values(
        id=bindparam("id"),
        user_id=bindparam("user_id"),
        key=bindparam("key"),
        request_hash=bindparam("request_hash"),
    )
    .on_conflict_do_nothing(index_elements=["user_id", "key"])
    .returning(_KEYS.c.id)
)
_ANSWER = (
    update(_KEYS)
    .where(_KEYS.c.id == bindparam("row_id"))
    .values(status_code=bindparam("status_code"), response=bindparam("response"))
)


async def claim_key(session: AsyncSession, user_id: uuid.UUID, key: str, fingerprint: str) -> Claim:
    """Take the key for this request, or return the answer it already has (409 if reused)."""
    params = {"id": uuid.uuid4(), "user_id": user_id, "key": key, "request_hash": fingerprint}
    row_id = (await session.execute(_CLAIM, params)).scalar_one_or_none()
    if row_id is not None:
        return Claim(row_id=row_id, stored=None)
    row = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    if row is None or row.response is None or row.status_code is None:
        raise ConflictError("A request with this Idempotency-Key is still in progress.")
    if row.request_hash != fingerprint:
        raise ConflictError(
            "This Idempotency-Key was already used for a different request.",
            extra={"idempotency_key": key},
        )
    return Claim(row_id=None, stored=StoredAnswer(row.status_code, row.response))


async def save_answer(
    session: AsyncSession, row_id: uuid.UUID, status_code: int, body: dict[str, Any]
) -> None:
    """Store the answer to replay, in the same transaction as the work it describes."""
    params = {"row_id": row_id, "status_code": status_code, "response": body}
    await session.execute(_ANSWER, params)


async def delete_keys_before(session: AsyncSession, before: datetime) -> int:
    """Forget the keys (and their stored answers) made before `before`; the count deleted.

    A retry that late is treated as a new request, which is why the period is long
    (IDEMPOTENCY_KEY_TTL_DAYS, 30 days by default) next to any client's retry window.
    """
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < before))
    return rows_affected(result)
