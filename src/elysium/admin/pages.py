"""What every back-office page module shares: rendering, redirects with a notice, form values,
CSV downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from elysium.admin.security import CSRF_FIELD, read_form
from elysium.admin.templating import templates
from elysium.errors import ValidationFailedError
from elysium.kit.spreadsheet import looks_like_a_formula
from elysium.models import User

E = TypeVar("E", bound=StrEnum)
M = TypeVar("M", bound=BaseModel)


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


def back_to(url: str) -> RedirectResponse:
    """After an action: back to a page (303, so a reload does not repeat the POST)."""
    return RedirectResponse(url, status_code=303)


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


async def form_fields(request: Request) -> dict[str, str]:
    """The posted fields without the CSRF token, blank ones left out (they mean "not given")."""
    form = await read_form(request)
    return {k: v.strip() for k, v in form.items() if k != CSRF_FIELD and v.strip()}


def parse(model: type[M], values: dict[str, Any]) -> M:
    """Validate form values into an API request body; 422 naming each bad field."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ValidationFailedError(f"Please correct the form ({detail}).", errors=errors) from exc


def required(values: dict[str, str], name: str) -> str:
    """A field the form must carry; 422 naming it when blank."""
    value = values.get(name)
    if not value:
        raise ValidationFailedError(
            f"Please fill in {name.replace('_', ' ')}.",
            errors=[{"field": name, "message": "required"}],
        )
    return value


def safe_cell(cell: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers are kept."""
    if isinstance(cell, str) and looks_like_a_formula(cell):
        try:
            float(cell)
        except ValueError:
            return "'" + cell
    return cell


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV download (UTF-8, comma-separated, one header row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
