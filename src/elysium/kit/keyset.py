"""Keyset pages over `(timestamp, id)` pairs: the cursor names the last row shown."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from elysium.errors import ValidationFailedError
from elysium.kit.pagination import decode_cursor, encode_cursor

T = TypeVar("T")
TimeKey = tuple[datetime, uuid.UUID]


def decode_time_cursor(cursor: str | None) -> TimeKey | None:
    """The `(timestamp, id)` a cursor holds; 422 for one we did not issue."""
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        at = datetime.fromisoformat(values[0])
        if at.tzinfo is None:
            raise ValueError("naive timestamp")
        return at.astimezone(UTC), uuid.UUID(values[1])
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ValidationFailedError(
            "The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid cursor"}]
        ) from exc


def page_of(rows: list[T], limit: int, key: Callable[[T], TimeKey]) -> tuple[list[T], str | None]:
    """The first `limit` of `rows` (fetched as `limit + 1`) and the cursor of the next page."""
    if len(rows) <= limit:
        return rows, None
    at, ident = key(rows[limit - 1])
    return rows[:limit], encode_cursor([at.isoformat(), str(ident)])
