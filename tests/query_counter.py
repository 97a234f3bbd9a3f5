"""Count the SQL statements a block sends through the app's engine (Saleor's `count_queries`).

    with count_statements(app) as statements:
        response = await client.get("/api/cart", headers=customer.headers)
    assert statements.count == 3, statements.report("GET /api/cart", 3)

Every statement sent through a cursor counts (SELECT, INSERT ... RETURNING, a pg_notify, an
executemany as one); BEGIN and COMMIT, which the driver sends itself, do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

PINNED_IN = "tests/ops/test_statement_counts.py"


@dataclass
class Statements:
    """The statements seen, in order."""

    sql: list[str] = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        return len(self.sql)

    def report(self, what: str, pinned: int) -> str:
        """The failure message: how to re-pin deliberately, then every statement sent."""
        listing = "\n".join(
            f"  {n}. {' '.join(sql.split())[:300]}" for n, sql in enumerate(self.sql, 1)
        )
        return (
            f"{what} sent {self.count} SQL statements; {pinned} are pinned. An extra round trip "
            f"on a hot path is a regression: remove it. If the change is deliberate, set the new "
            f"number in {PINNED_IN} and say why in the commit.\n{listing}"
        )


@contextmanager
def count_statements(app: FastAPI) -> Iterator[Statements]:
    """Record every statement the app's engine sends while the block runs."""
    engine: AsyncEngine = app.state.engine
    seen = Statements()

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        seen.sql.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
