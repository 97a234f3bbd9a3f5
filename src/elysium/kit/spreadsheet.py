"""CSV downloads opened in a spreadsheet: a cell starting like a formula is never run as one."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def looks_like_a_formula(text: str) -> bool:
    """Whether a spreadsheet would read `text` as a formula (or a DDE payload)."""
    return text.startswith(FORMULA_START)
