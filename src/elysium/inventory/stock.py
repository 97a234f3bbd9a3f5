"""The primitives every stock write goes through: lock rows in one order, move through the ledger.

Invariants kept here:
- Stock rows are locked with `SELECT ... FOR UPDATE` sorted by id, always, so two transactions
  that need overlapping rows queue instead of deadlocking.
- A reservation row is only changed while its stock row is locked.
- `move()` is the one place stock_level/reserved change, and it appends the ledger row for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    Integer,
    ScalarSelect,
    String,
    Uuid,
    bindparam,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from elysium.catalog.cache import notify_catalog_changed
from elysium.db import table_of
from elysium.models import StockItem, StockMovement, StockReservation
from elysium.models.inventory import ReservationOwner

VariantRef = tuple[uuid.UUID, str]  # (product_id, variant_key)


def live_reserved(now: datetime) -> ScalarSelect[int]:
    """Units held on `StockItem` by reservations that have not expired (correlated subquery)."""
    return (
        select(func.coalesce(func.sum(StockReservation.quantity), 0))
        .where(StockReservation.stock_item_id == StockItem.id, StockReservation.expires_at > now)
        .correlate(StockItem)
        .scalar_subquery()
    )


async def lock_items(
    session: AsyncSession, refs: Collection[VariantRef]
) -> dict[VariantRef, StockItem]:
    """Lock the existing stock rows of `refs` in id order; variants without a row are absent."""
    if not refs:
        return {}
    rows = await session.scalars(
        select(StockItem)
        .where(tuple_(StockItem.product_id, StockItem.variant_key).in_(sorted(refs)))
        .order_by(StockItem.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {(item.product_id, item.variant_key): item for item in rows}


async def lock_item_ids(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, StockItem]:
    """Lock stock rows by id, in id order."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(
        select(StockItem)
        .where(StockItem.id.in_(wanted))
        .order_by(StockItem.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {item.id: item for item in rows}


async def ensure_and_lock_items(
    session: AsyncSession, refs: Collection[VariantRef]
) -> dict[VariantRef, StockItem]:
    """Create any missing rows (at zero stock), then lock them all in id order."""
    if refs:
        rows = [{"id": uuid.uuid4(), "product_id": p, "variant_key": k} for p, k in sorted(refs)]
        await session.execute(insert(StockItem).values(rows).on_conflict_do_nothing())
    return await lock_items(session, refs)


_ITEMS = table_of(StockItem)
_LEDGER = table_of(StockMovement)
_MOVED = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("item_id"))
    .values(
        stock_level=_ITEMS.c.stock_level + bindparam("delta"),
        reserved=_ITEMS.c.reserved + bindparam("reserved_delta"),
    )
    .returning(_ITEMS.c.id, _ITEMS.c.stock_level, _ITEMS.c.reserved)
    .cte("moved")
)
_LEDGER_VALUES = {
    "stock_item_id": _MOVED.c.id,
    "delta": bindparam("delta", type_=Integer),
    "reserved_delta": bindparam("reserved_delta", type_=Integer),
    "reason": bindparam("reason", type_=String),
    "actor_id": bindparam("actor_id", type_=Uuid),
    "order_id": bindparam("order_id", type_=Uuid),
    "reservation_id": bindparam("reservation_id", type_=Uuid),
    "resulting_stock_level": _MOVED.c.stock_level,
    "resulting_reserved": _MOVED.c.reserved,
    "note": bindparam("note", type_=String),
}
# One statement changes the levels and appends the ledger row that records them.
_MOVE = (
    insert(_LEDGER)
    .from_select(list(_LEDGER_VALUES), select(*_LEDGER_VALUES.values()))
    .returning(_LEDGER.c.resulting_stock_level, _LEDGER.c.resulting_reserved)
)


async def move(
    session: AsyncSession,
    item: StockItem,
    *,
    reason: str,
    delta: int = 0,
    reserved_delta: int = 0,
    actor_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    reservation_id: uuid.UUID | None = None,
    note: str | None = None,
) -> None:
    """Change a locked stock row and append the matching ledger row, in one statement.

    `item` is given the stored levels (no unit-of-work flush: this runs on every checkout).
    When the variant sells out or comes back, cached catalogue pages are dropped at commit.
    """
    params = {
        "item_id": item.id,
        "delta": delta,
        "reserved_delta": reserved_delta,
        "reason": reason,
        "actor_id": actor_id,
        "order_id": order_id,
        "reservation_id": reservation_id,
        "note": note,
    }
    stored = (await session.execute(_MOVE, params)).one()
    set_committed_value(item, "stock_level", stored.resulting_stock_level)
    set_committed_value(item, "reserved", stored.resulting_reserved)
    free_after = stored.resulting_stock_level - stored.resulting_reserved
    if (free_after - delta + reserved_delta > 0) != (free_after > 0):
        await notify_catalog_changed(session)  # sold out or back: `in_stock` on cached pages


def order_of(reservation: StockReservation) -> uuid.UUID | None:
    """The order a reservation belongs to, for the ledger's `order_id`."""
    return reservation.owner_id if reservation.owner_type == ReservationOwner.ORDER else None


async def lapse_expired(session: AsyncSession, items: Sequence[StockItem], now: datetime) -> None:
    """Stop counting expired reservations of these locked rows in `reserved` (ledger `expire`).

    The rows stay until the periodic job deletes them, so it can still report their owners.
    """
    by_id = {item.id: item for item in items}
    if not by_id:
        return
    lapsed = await session.scalars(
        update(StockReservation)
        .where(
            StockReservation.stock_item_id.in_(by_id),
            StockReservation.expires_at <= now,
            StockReservation.lapsed_at.is_(None),
        )
        .values(lapsed_at=now)
        .returning(StockReservation)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    for reservation in lapsed:
        await _expire(session, by_id[reservation.stock_item_id], reservation)


async def _expire(session: AsyncSession, item: StockItem, reservation: StockReservation) -> None:
    await move(
        session,
        item,
        reason="expire",
        reserved_delta=-reservation.quantity,
        order_id=order_of(reservation),
        reservation_id=reservation.id,
    )


async def expire_reservations(
    session: AsyncSession, now: datetime, batch_size: int = 1000
) -> list[tuple[ReservationOwner, uuid.UUID]]:
    """Delete expired reservations (ledger `expire` for those still counted); return their owners.

    Handles the reservations of up to `batch_size` stock rows per call.
    """
    item_ids = await session.scalars(
        select(StockReservation.stock_item_id)
        .where(StockReservation.expires_at <= now)
        .distinct()
        .limit(batch_size)
    )
    items = await lock_item_ids(session, item_ids)
    if not items:
        return []
    expired = await session.scalars(
        delete(StockReservation)
        .where(StockReservation.stock_item_id.in_(items), StockReservation.expires_at <= now)
        .returning(StockReservation)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    owners: dict[tuple[ReservationOwner, uuid.UUID], None] = {}
    for reservation in expired:
        owners[(reservation.owner_type, reservation.owner_id)] = None
        if reservation.lapsed_at is None:
            await _expire(session, items[reservation.stock_item_id], reservation)
    return list(owners)
