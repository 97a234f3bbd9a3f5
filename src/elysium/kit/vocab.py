"""Typed vocabularies in the database: a `StrEnum` stored as its value in a VARCHAR column.

`mapped_column(StrEnumType(OrderStatus, 16))` maps the column to the enum (rows load as
members, so mypy and `match` see `OrderStatus.PAID`, never a bare string), and
`one_of("status", OrderStatus)` is the CHECK expression generated from the same enum, so the
database and the code cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """VARCHAR(n) holding a StrEnum's values; loads members, accepts members or their values."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum
        self.length = length

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)

    def copy(self, **kw: Any) -> StrEnumType[E]:
        return StrEnumType(self.enum, self.length)


def one_of(column: str, values: Iterable[str]) -> str:
    """A CHECK expression limiting `column` to `values` (an enum class or any strings)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"
