"""Cursor pagination: `?limit=&cursor=`, answers `{"items": [...], "next_cursor": ...}`."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from elysium.errors import ValidationFailedError

T = TypeVar("T")

LimitQuery = Annotated[int, Query(ge=1, le=100, description="Page size (max 100).")]
CursorQuery = Annotated[
    str | None, Query(max_length=512, description="The `next_cursor` of the previous page.")
]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the keyset `values` of the last row shown."""
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    """The keyset values a cursor holds; 422 for one we did not issue."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(values, list) or len(values) != size:
        raise _bad_cursor()
    return values


def _bad_cursor() -> ValidationFailedError:
    return ValidationFailedError(
        "The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid cursor"}]
    )


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
FromDayQuery = Annotated[
    date | None,
    Query(alias="from", ge=FIRST_DAY, le=LAST_DAY, description="First Europe/London day."),
]
ToDayQuery = Annotated[
    date | None,
    Query(alias="to", ge=FIRST_DAY, le=LAST_DAY, description="Last Europe/London day (included)."),
]
DayQuery = Annotated[date | None, Query(alias="date", ge=FIRST_DAY, le=LAST_DAY)]
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL refuses NUL)
