"""Reserving stock for orders and staff holds; releasing, selling and expiring it.

The orders domain calls `reserve`, `release`, `convert_to_sale`, and its expiry job
(`orders.tasks.expire_holds`) calls `expire_reservations` and closes the orders it names.
All of them write at once (`stock.move`) and never commit: the caller's transaction decides.

Made-to-order pieces are never stock-limited: their lines are accepted without a reservation
row, and `reserve` returns reservations for the stock-limited lines only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.db import insert_new
from elysium.errors import ConflictError, OutOfStockError
from elysium.inventory import stock
from elysium.inventory.stock import VariantRef
from elysium.kit.clock import utcnow
from elysium.models import Product, StockItem, StockReservation
from elysium.models.inventory import ReservationOwner

Owner = tuple[ReservationOwner, uuid.UUID]
OWNERS = tuple(ReservationOwner)


@dataclass(frozen=True, slots=True)
class ReservationLine:
    """Units of one product variant to hold; lines naming the same variant are summed."""

    product_id: uuid.UUID
    variant_key: str
    quantity: int
    product_slug: str


@dataclass(slots=True)
class _Demand:
    quantity: int
    product_slug: str


async def reserve(
    session: AsyncSession,
    lines: Sequence[ReservationLine],
    *,
    owner_type: ReservationOwner,
    owner_id: uuid.UUID,
    expires_at: datetime,
    actor_id: uuid.UUID | None,
    reason: str,
) -> list[StockReservation]:
    """Hold every line or none: OutOfStockError (409) lists every short line and writes nothing.

    A variant without a stock row has nothing available.
    """
    now = utcnow()
    _check_request(lines, owner_type, expires_at, now)
    demand, items = await _lock_demand(session, lines)
    short = [
        item
        for ref, want in demand.items()
        if (item := items.get(ref)) and _free(item) < want.quantity
    ]
    if short:  # expired holds still in `reserved` may be what makes them short
        await stock.lapse_expired(session, short, now)
    _refuse_if_short(demand, items)
    return [
        await _hold(
            session, items[ref], want.quantity, owner_type, owner_id, expires_at, actor_id, reason
        )
        for ref, want in demand.items()
    ]


def _check_request(
    lines: Sequence[ReservationLine],
    owner_type: ReservationOwner,
    expires_at: datetime,
    now: datetime,
) -> None:
    if owner_type not in OWNERS:  # typed, but scripts and tests call it outside mypy's sight
        raise ValueError(f"owner_type must be one of {', '.join(OWNERS)}")
    if expires_at <= now:
        raise ValueError("expires_at must be in the future")
    if any(line.quantity <= 0 for line in lines):
        raise ValueError("quantities must be positive")


# Built once: every checkout runs it.
_LOCK_DEMANDED = (
    select(StockItem, Product.made_to_order)
    .join(Product, Product.id == StockItem.product_id)
    .where(
        tuple_(StockItem.product_id, StockItem.variant_key).in_(bindparam("refs", expanding=True))
    )
    .order_by(StockItem.id)
    .with_for_update(of=StockItem)
    .execution_options(populate_existing=True)
)


async def _lock_demand(
    session: AsyncSession, lines: Sequence[ReservationLine]
) -> tuple[dict[VariantRef, _Demand], dict[VariantRef, StockItem]]:
    """Units wanted per stock-limited variant (lines summed) and their stock rows, locked.

    One query locks the rows (id order) and tells made-to-order products apart; only lines
    without a stock row need a second look at their product.
    """
    demand = _summed(lines)
    rows = await session.execute(_LOCK_DEMANDED, {"refs": sorted(demand)})
    items: dict[VariantRef, StockItem] = {}
    unlimited: set[uuid.UUID] = set()
    for item, made_to_order in rows:
        items[(item.product_id, item.variant_key)] = item
        if made_to_order:
            unlimited.add(item.product_id)
    unstocked = {ref[0] for ref in demand if ref not in items} - unlimited
    if unstocked:
        unlimited |= set(
            await session.scalars(
                select(Product.id).where(Product.id.in_(unstocked), Product.made_to_order)
            )
        )
    return {ref: want for ref, want in demand.items() if ref[0] not in unlimited}, items


def _summed(lines: Sequence[ReservationLine]) -> dict[VariantRef, _Demand]:
    demand: dict[VariantRef, _Demand] = {}
    for line in lines:
        want = demand.setdefault((line.product_id, line.variant_key), _Demand(0, line.product_slug))
        want.quantity += line.quantity
    return demand


def _free(item: StockItem | None) -> int:
    """Units a locked row can still give (exact once expired holds have lapsed)."""
    return 0 if item is None else item.stock_level - item.reserved


def _refuse_if_short(demand: dict[VariantRef, _Demand], items: dict[VariantRef, StockItem]) -> None:
    short = [
        {
            "product_slug": want.product_slug,
            "variant_key": ref[1],
            "requested": want.quantity,
            "available": max(0, _free(items.get(ref))),
        }
        for ref, want in demand.items()
        if _free(items.get(ref)) < want.quantity
    ]
    if short:
        names = ", ".join(f"{s['product_slug']} ({s['variant_key']})" for s in short)
        raise OutOfStockError(f"Not enough stock for: {names}.", extra={"lines": short})


async def _hold(
    session: AsyncSession,
    item: StockItem,
    quantity: int,
    owner_type: ReservationOwner,
    owner_id: uuid.UUID,
    expires_at: datetime,
    actor_id: uuid.UUID | None,
    reason: str,
) -> StockReservation:
    reservation = StockReservation(
        id=uuid.uuid4(),
        stock_item_id=item.id,
        quantity=quantity,
        owner_type=owner_type,
        owner_id=owner_id,
        reason=reason,
        expires_at=expires_at,
    )
    await insert_new(session, reservation)
    await stock.move(
        session,
        item,
        reason="reserve",
        reserved_delta=quantity,
        actor_id=actor_id,
        order_id=stock.order_of(reservation),
        reservation_id=reservation.id,
        note=reason,
    )
    return reservation


async def _take_owned(
    session: AsyncSession, owner_type: ReservationOwner, owner_id: uuid.UUID, *, counted_only: bool
) -> tuple[list[StockReservation], dict[uuid.UUID, StockItem]]:
    """Lock the owner's stock rows (id order), then delete and return the owner's reservations.

    Deleting after the locks makes a concurrent second call find nothing: it is idempotent.
    """
    owned = (StockReservation.owner_type == owner_type) & (StockReservation.owner_id == owner_id)
    item_ids = await session.scalars(select(StockReservation.stock_item_id).where(owned))
    items = await stock.lock_item_ids(session, item_ids)
    statement = delete(StockReservation).where(owned, StockReservation.stock_item_id.in_(items))
    if counted_only:
        statement = statement.where(StockReservation.lapsed_at.is_(None))
    taken = await session.scalars(
        statement.returning(StockReservation).execution_options(
            synchronize_session=False, populate_existing=True
        )
    )
    return list(taken), items


async def release(
    session: AsyncSession,
    *,
    owner_type: ReservationOwner,
    owner_id: uuid.UUID,
    reason: str,
    actor_id: uuid.UUID | None,
) -> int:
    """Give back everything the owner holds (ledger `release`); returns the units released.

    Idempotent: a second call finds nothing and returns 0.
    """
    taken, items = await _take_owned(session, owner_type, owner_id, counted_only=False)
    released = 0
    for reservation in taken:
        if reservation.lapsed_at is not None:
            continue  # already given back when it lapsed
        released += reservation.quantity
        await stock.move(
            session,
            items[reservation.stock_item_id],
            reason="release",
            reserved_delta=-reservation.quantity,
            actor_id=actor_id,
            order_id=stock.order_of(reservation),
            reservation_id=reservation.id,
            note=reason,
        )
    return released


async def convert_to_sale(
    session: AsyncSession,
    *,
    owner_type: ReservationOwner,
    owner_id: uuid.UUID,
    order_id: uuid.UUID,
    actor_id: uuid.UUID | None,
) -> int:
    """Turn the owner's held units into a sale (stock and reserved both fall; ledger `sale`).

    Returns the units sold; idempotent (a second call sells nothing). A reservation that has
    expired but still counts (nobody needed its units) is sold; one that has lapsed is not,
    since its units may be sold to someone else: fewer units than ordered tells the caller.
    """
    taken, items = await _take_owned(session, owner_type, owner_id, counted_only=True)
    for reservation in taken:
        await stock.move(
            session,
            items[reservation.stock_item_id],
            reason="sale",
            delta=-reservation.quantity,
            reserved_delta=-reservation.quantity,
            actor_id=actor_id,
            order_id=order_id,
            reservation_id=reservation.id,
        )
    return sum(r.quantity for r in taken)


async def release_staff_holds(
    session: AsyncSession,
    item_ref: VariantRef,
    quantity: int,
    *,
    actor_id: uuid.UUID | None,
    reason: str,
) -> StockItem:
    """Release `quantity` units of live staff holds on one variant, oldest hold first.

    ConflictError (409) when fewer units are held by staff.
    """
    item = (await stock.lock_items(session, [item_ref])).get(item_ref)
    holds = [] if item is None else await _live_staff_holds(session, item)
    held = sum(h.quantity for h in holds)
    if item is None or held < quantity:
        raise ConflictError(f"Only {held} unit(s) of this variant are held by staff.")
    remaining = quantity
    for hold in holds:
        part = min(remaining, hold.quantity)
        await _shrink(session, hold, part)
        await stock.move(
            session,
            item,
            reason="release",
            reserved_delta=-part,
            actor_id=actor_id,
            reservation_id=hold.id,
            note=reason,
        )
        remaining -= part
        if remaining == 0:
            break
    await session.flush()
    return item


async def _live_staff_holds(session: AsyncSession, item: StockItem) -> list[StockReservation]:
    rows = await session.scalars(
        select(StockReservation)
        .where(
            StockReservation.stock_item_id == item.id,
            StockReservation.owner_type == ReservationOwner.STAFF,
            StockReservation.expires_at > utcnow(),
        )
        .order_by(StockReservation.created_at, StockReservation.id)
    )
    return list(rows)


async def _shrink(session: AsyncSession, hold: StockReservation, units: int) -> None:
    if units == hold.quantity:
        await session.delete(hold)
    else:
        hold.quantity -= units


async def expire_reservations(session: AsyncSession) -> list[Owner]:
    """Delete expired reservations and return their owners.

    Orders whose reservation expired are in the list (`ReservationOwner.ORDER`): the orders
    domain's expiry job calls this in the transaction that cancels those orders.
    """
    return await stock.expire_reservations(session, utcnow())
