"""What every back-office page module shares: rendering, redirects with a notice, form values."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from elysium.admin.templating import templates
from elysium.models import User

E = TypeVar("E", bound=StrEnum)


def render(
    request: Request, name: str, staff: User | None, status_code: int = 200, **context: Any
) -> Response:
    """A page of the back office, signed in as `staff`."""
    return templates.TemplateResponse(
        request, name, {"staff": staff, **context}, status_code=status_code
    )


def done(path: str, notice: str) -> Response:
    """303 back to `path` with the key of a notice the page shows (never free text)."""
    return RedirectResponse(f"{path}?done={notice}", status_code=303)


def enum_or_none(kind: type[E], value: str | None) -> E | None:
    """A filter value of a typed vocabulary, or None when blank or unknown."""
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def date_or_none(value: str | None) -> date | None:
    """A `YYYY-MM-DD` filter value, or None when blank or malformed."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def validation_message(exc: ValidationError) -> str:
    """A pydantic error in words a person can act on (`tracking_number: too long`)."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "value"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)
