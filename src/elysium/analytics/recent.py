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
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    column,
    func,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncEngine

from elysium.catalog.listing import visible
from elysium.kit.batching import Batcher
from elysium.models import Product, RecentView

_VIEWERS = (
    func.unnest(
        cast(bindparam("users"), ARRAY(PgUUID)),
        cast(bindparam("sessions"), ARRAY(Text)),
        cast(bindparam("limits"), ARRAY(Integer)),
    )
    .table_valued(
        column("user_id", PgUUID),
        column("session_id", Text),
        column("lim", Integer),
        with_ordinality="i",
    )
    .render_derived(name="q")
)
"""The batch's viewers, numbered `i` in submission order."""


def _views_of(viewer: ColumnElement[bool]) -> Select[str, str, str | None, datetime]:
    """One viewer's live pieces, newest first, at most its `lim` (correlated to `_VIEWERS`)."""
    return (
        select(Product.slug, Product.title, Product.image_url, RecentView.viewed_at)
        .join(Product, Product.id == RecentView.product_id)
        .where(viewer, visible())
        .order_by(RecentView.viewed_at.desc(), Product.slug)
        .limit(_VIEWERS.c.lim)
    )


# Exactly one branch applies to a viewer (a user or a guest session); its `IS [NOT] NULL` test
# is a one-time filter, so the other costs nothing.
_VIEWS = union_all(
    _views_of(_VIEWERS.c.user_id.is_not(None) & (RecentView.user_id == _VIEWERS.c.user_id)),
    _views_of(_VIEWERS.c.user_id.is_(None) & (RecentView.session_id == _VIEWERS.c.session_id)),
).lateral("v")
_RECENT_BATCH = (
    select(_VIEWERS.c.i, _VIEWS.c.slug, _VIEWS.c.title, _VIEWS.c.image_url, _VIEWS.c.viewed_at)
    .select_from(_VIEWERS.join(_VIEWS, true()))
    .order_by(_VIEWERS.c.i, _VIEWS.c.viewed_at.desc(), _VIEWS.c.slug)
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
