"""Inventory endpoints (contract: "Inventory (staff)")."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, status

from elysium.accounts.deps import OptionalUser, StaffUser
from elysium.db import ReadSessionDep, SessionDep
from elysium.inventory import service
from elysium.inventory.schemas import (
    HoldRead,
    HoldReleaseRead,
    HoldRequest,
    InventoryRead,
    LowStockRead,
    MovementRead,
    StaffInventoryRead,
    StockUpdate,
    ThresholdRequest,
    VariantStockRead,
)
from elysium.kit.deps import SettingsDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(prefix="/api/inventory", tags=["inventory"])


@router.get("/low-stock")
async def low_stock(
    staff: StaffUser, session: ReadSessionDep, limit: LimitQuery = 20, cursor: CursorQuery = None
) -> Page[LowStockRead]:
    """Stock-limited variants whose available units are at or below their low-stock threshold."""
    return await service.low_stock(session, limit, cursor)


@router.post("/reserve", status_code=status.HTTP_201_CREATED)
async def place_hold(
    body: HoldRequest, staff: StaffUser, session: SessionDep, settings: SettingsDep
) -> HoldRead:
    """Hold units of a variant by hand (e.g. for a client viewing); the hold lapses after
    `STAFF_HOLD_DAYS`. 409 when not enough units are free; nothing is held then."""
    hold_for = timedelta(days=settings.staff_hold_days)
    return await service.place_staff_hold(session, body, staff, hold_for)


@router.post("/release")
async def release_hold(body: HoldRequest, staff: StaffUser, session: SessionDep) -> HoldReleaseRead:
    """Release units of staff holds on a variant, oldest hold first; 409 when fewer are held."""
    return await service.release_staff_hold(session, body, staff)


@router.post("/threshold")
async def set_threshold(
    body: ThresholdRequest, staff: StaffUser, session: SessionDep
) -> VariantStockRead:
    """Set a variant's low-stock threshold, with a `reason` for the audit log (the stock level
    is unchanged). 404 for an unknown product, 422 for a key naming none of its variants."""
    return await service.set_low_stock_threshold(session, body, staff)


@router.get("/{product_slug}")
async def product_inventory(
    product_slug: str, user: OptionalUser, session: SessionDep
) -> InventoryRead | StaffInventoryRead:
    """Availability of each variant (`available` is null for made-to-order pieces); staff also
    see the stock level, units reserved by unexpired holds, and the low-stock threshold."""
    is_staff = user is not None and user.is_staff
    return await service.product_inventory(session, product_slug, staff=is_staff)


@router.get("/{product_slug}/movements")
async def movements(
    product_slug: str,
    staff: StaffUser,
    session: ReadSessionDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[MovementRead]:
    """The product's stock movement ledger, newest first (append-only)."""
    return await service.list_movements(session, product_slug, limit, cursor)


@router.put("/{product_slug}/{variant_key:path}")
async def update_stock(
    product_slug: str, variant_key: str, body: StockUpdate, staff: StaffUser, session: SessionDep
) -> VariantStockRead:
    """Set (`stock_level`) or change (`adjust`) a variant's stock, with a `reason` for the
    ledger; the variant key is percent-encoded. 409 when it would fall below the units reserved."""
    return await service.update_stock(session, product_slug, variant_key, body, staff)
