"""The back office's Jinja environment (filters, the CSRF field) and its static directory."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from elysium.admin.format import FILTERS
from elysium.admin.security import csrf_field

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["csrf_field"] = csrf_field
templates.env.filters.update(FILTERS)
STATIC_DIR = Path(__file__).parent / "static"
