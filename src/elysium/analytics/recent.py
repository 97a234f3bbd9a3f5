"""Recently viewed, read in batches: one process's concurrent reads share one statement.

A product page asks for the viewer's recently viewed pieces on every load. Read one by one,
each request paid a database round trip; `RecentViews` sends the reads that arrive while one
is under way together (`kit.batching`), in ONE statement that answers each viewer separately
(a LATERAL subquery per viewer, through the same indexes as a single read). One statement, so
on an autocommit engine: no BEGIN and COMMIT either.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from elysium.kit.batching import Batcher

# Per viewer (in submission order `i`): the live products of its recent views, newest first,
# at most its `lim`. Exactly one of the two branches applies to a viewer (a user or a guest
# session); its `IS [NOT] NULL` test is a one-time filter, so the other costs nothing.
_RECENT_BATCH = text(
    """
SELECT q.i, v.slug, v.title, v.image_url, v.viewed_at
FROM unnest(CAST(:users AS uuid[]), CAST(:sessions AS text[]), CAST(:limits AS int[]))
     WITH ORDINALITY AS q(user_id, session_id, lim, i)
CROSS JOIN LATERAL (
  (SELECT p.slug, p.title, p.image_url, rv.viewed_at
     FROM recent_views rv JOIN products p ON p.id = rv.product_id
    WHERE q.user_id IS NOT NULL AND rv.user_id = q.user_id
      AND p.deleted_at IS NULL AND p.published
    ORDER BY rv.viewed_at DESC, p.slug LIMIT q.lim)
  UNION ALL
  (SELECT p.slug, p.title, p.image_url, rv.viewed_at
     FROM recent_views rv JOIN products p ON p.id = rv.product_id
    WHERE q.user_id IS NULL AND rv.session_id = q.session_id
      AND p.deleted_at IS NULL AND p.published
    ORDER BY rv.viewed_at DESC, p.slug LIMIT q.lim)
) v
ORDER BY q.i, v.viewed_at DESC, v.slug
"""
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whose recent views, and how many: a signed-in user (then no session id), else a
    guest's session id."""

    user_id: uuid.UUID | None
    session_id: str | None
    limit: int


@dataclass(frozen=True, slots=True)
class RecentRow:
    slug: str
    title: str
    image_url: str | None
    viewed_at: datetime


class RecentViews:
    """The process's reader of recently viewed lists (see the module)."""

    def __init__(self, database: AsyncEngine) -> None:
        self.database = database
        self._batches: Batcher[Viewer, list[RecentRow]] = Batcher(self._read)

    async def read(self, viewer: Viewer) -> list[RecentRow]:
        return await self._batches.submit(viewer)

    async def _read(self, viewers: list[Viewer]) -> list[list[RecentRow]]:
        params = {
            "users": [v.user_id for v in viewers],
            "sessions": [v.session_id for v in viewers],
            "limits": [v.limit for v in viewers],
        }
        found: dict[int, list[RecentRow]] = defaultdict(list)
        async with self.database.connect() as connection:
            for i, slug, title, image_url, viewed_at in await connection.execute(
                _RECENT_BATCH, params
            ):
                found[i].append(RecentRow(slug, title, image_url, viewed_at))
        return [found[i] for i in range(1, len(viewers) + 1)]


def install_recent_views(app: FastAPI) -> None:
    """Give the app its reader, on the autocommit engine, once the engine exists."""

    async def start(app: FastAPI) -> None:
        app.state.recent_views = RecentViews(app.state.autocommit_engine)

    app.state.startup_hooks.append(start)


async def get_recent_views(request: Request) -> RecentViews:
    reader: RecentViews = request.app.state.recent_views
    return reader


RecentViewsDep = Annotated[RecentViews, Depends(get_recent_views)]
