"""Text search helpers shared by the staff lists."""

from __future__ import annotations


def contains_pattern(text: str) -> str:
    """A LIKE/ILIKE pattern (escape character `\\`) matching values that contain `text` as
    typed: `%` and `_` in it are literal, not wildcards."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
