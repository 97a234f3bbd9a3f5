"""Coupon administration for staff (checkout applies coupons through the cart)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from elysium.accounts.deps import StaffUser
from elysium.db import SessionDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page
from elysium.promotions import service
from elysium.promotions.schemas import CouponCreate, CouponRead

router = APIRouter(tags=["coupons"])


@router.post("/api/admin/coupons", status_code=status.HTTP_201_CREATED)
async def create_coupon(body: CouponCreate, staff: StaffUser, session: SessionDep) -> CouponRead:
    """Create a coupon (staff; audited). Codes are unique ignoring case and stored upper-cased.

    `fixed` coupons take `amount` off; `percentage` coupons take `percent` (1-100) of the
    eligible subtotal, rounded half up to the penny. `collection_slugs` restricts the discount
    to lines from those collections; `min_subtotal` applies to the whole cart. 409 when the
    code exists.
    """
    return await service.create_coupon(session, staff, body)


@router.get("/api/admin/coupons")
async def list_coupons(
    staff: StaffUser, session: SessionDep, limit: LimitQuery = 20, cursor: CursorQuery = None
) -> Page[CouponRead]:
    """Every coupon, newest first, with `redemptions` (uses not given back)."""
    items, next_cursor = await service.list_coupons(session, limit, cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.post("/api/admin/coupons/{coupon_id}/deactivate")
async def deactivate_coupon(
    coupon_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> CouponRead:
    """Stop a coupon from being applied or redeemed (staff; audited); past uses stand."""
    return await service.deactivate_coupon(session, staff, coupon_id)
