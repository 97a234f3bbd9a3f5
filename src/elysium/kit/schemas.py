"""The base every request body of every domain extends, and limits on free-form JSON."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

# Free-form JSON (preferences...) is stored as JSONB and later serialised again (exports,
# answers): a bound on its nesting keeps every later read well inside any serialiser's limit.
MAX_JSON_DEPTH = 8
T = TypeVar("T")


class Strict(BaseModel):
    """Bodies refuse unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


def json_depth(value: Any) -> int:
    """How deeply objects and arrays nest in `value` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def shallow_json(value: T) -> T:
    """A validator: refuse JSON nested deeper than MAX_JSON_DEPTH."""
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"must not nest more than {MAX_JSON_DEPTH} levels deep")
    return value
