"""Coupons: staff administration, evaluation against a cart, and usage counted at checkout.

Usage is the number of unreleased redemptions. `redeem_coupon` locks the coupon row before it
counts, so concurrent checkouts of a limited coupon serialise and the limit holds exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.errors import ConflictError, NotFoundError, ValidationFailedError
from elysium.kit.clock import utcnow
from elysium.kit.keyset import decode_time_cursor
from elysium.kit.money import Money
from elysium.kit.pagination import encode_cursor
from elysium.kit.vat import VatTreatment, charged
from elysium.models import Coupon, CouponRedemption, User
from elysium.promotions.discounts import (
    DiscountLine,
    DiscountResult,
    discount_for,
    eligible_subtotal,
)
from elysium.promotions.schemas import CouponCreate, CouponRead

__all__ = [
    "DiscountLine",
    "DiscountResult",
    "create_coupon",
    "deactivate_coupon",
    "evaluate_coupon",
    "list_coupons",
    "redeem_coupon",
    "release_coupon",
]

MAX_CODE_LENGTH = 64


def normalize_code(code: str) -> str:
    """Codes are matched ignoring case and surrounding spaces."""
    return code.strip().upper()


# One answer for a code that does not exist, has ended, was switched off or has not started, so
# that guessing cannot tell a real code from an invented one.
NOT_RECOGNISED = "This code is not recognised or not applicable."


def _invalid_code(message: str) -> ValidationFailedError:
    return ValidationFailedError(message, errors=[{"field": "code", "message": message}])


async def find_coupon(session: AsyncSession, code: str) -> Coupon | None:
    """The coupon called `code` (any letter case), if any."""
    normalized = normalize_code(code)
    if not normalized or len(normalized) > MAX_CODE_LENGTH:
        return None
    return await session.scalar(select(Coupon).where(Coupon.code == normalized))


async def _uses(session: AsyncSession, coupon_id: uuid.UUID, user_id: uuid.UUID | None) -> int:
    """Unreleased redemptions of a coupon, by everyone or by one customer."""
    stmt = select(func.count()).where(
        CouponRedemption.coupon_id == coupon_id, CouponRedemption.released_at.is_(None)
    )
    if user_id is not None:
        stmt = stmt.where(CouponRedemption.user_id == user_id)
    return await session.scalar(stmt) or 0


async def _usage_problem(
    session: AsyncSession, coupon: Coupon, user_id: uuid.UUID | None
) -> str | None:
    limit, per_customer = coupon.max_redemptions, coupon.max_per_customer
    if limit is not None and await _uses(session, coupon.id, None) >= limit:
        return "This code has been fully redeemed."
    if (
        per_customer is not None
        and user_id is not None
        and await _uses(session, coupon.id, user_id) >= per_customer
    ):
        return "You have already used this code as often as it allows."
    return None


def _validity_problem(coupon: Coupon, now: datetime) -> str | None:
    if not coupon.active or (coupon.ends_at is not None and now >= coupon.ends_at):
        return NOT_RECOGNISED
    if coupon.starts_at is not None and now < coupon.starts_at:
        return NOT_RECOGNISED
    return None


def _cart_problem(
    coupon: Coupon, lines: Sequence[DiscountLine], eligible: int, treatment: VatTreatment
) -> str | None:
    if eligible <= 0:
        return "This code does not apply to anything in your cart."
    subtotal = sum(line.charged_pence for line in lines)
    if subtotal < charged(coupon.min_subtotal_pence, treatment):
        minimum = Money.from_pence(charged(coupon.min_subtotal_pence, treatment)).amount
        return f"This code needs a subtotal of at least £{minimum}."
    return None


async def evaluate_coupon(
    session: AsyncSession,
    code: str,
    *,
    user_id: uuid.UUID | None,
    lines: Sequence[DiscountLine],
    treatment: VatTreatment = VatTreatment.STANDARD,
) -> DiscountResult:
    """The discount `code` gives on `lines`; 422 (field `code`) when it cannot be used.

    Coupon amounts and limits are UK prices including VAT: under a zero-rated export the
    minimum subtotal is compared with the subtotal charged, and the discount worked out on the
    UK prices is charged net, each converted as every other amount is (`kit.vat.charged`)."""
    coupon = await find_coupon(session, code)
    if coupon is None:
        raise _invalid_code(NOT_RECOGNISED)
    eligible = eligible_subtotal(lines, coupon.collection_slugs)
    problem = (
        _validity_problem(coupon, utcnow())
        or await _usage_problem(session, coupon, user_id)
        or _cart_problem(coupon, lines, eligible, treatment)
    )
    if problem is not None:
        raise _invalid_code(problem)
    discount = discount_for(eligible, amount_pence=coupon.amount_pence, percent=coupon.percent)
    return DiscountResult(coupon.id, coupon.code, charged(discount, treatment))


async def redeem_coupon(
    session: AsyncSession,
    coupon_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None,
    order_id: uuid.UUID,
) -> None:
    """Count one use for `order_id` (idempotent per order); 409 when the limits ran out."""
    locked = select(Coupon).where(Coupon.id == coupon_id).with_for_update()
    coupon = await session.scalar(locked.execution_options(populate_existing=True))
    if coupon is None:
        raise NotFoundError("There is no such coupon.")
    existing = await session.scalar(
        select(CouponRedemption).where(CouponRedemption.order_id == order_id)
    )
    if existing is not None and existing.released_at is None:
        return
    problem = await _usage_problem(session, coupon, user_id)
    if problem is not None:
        raise ConflictError(problem, errors=[{"field": "coupon_code", "message": problem}])
    if existing is None:
        session.add(CouponRedemption(coupon_id=coupon.id, user_id=user_id, order_id=order_id))
    else:
        existing.coupon_id, existing.user_id, existing.released_at = coupon.id, user_id, None
    await session.flush()


async def release_coupon(session: AsyncSession, *, order_id: uuid.UUID) -> None:
    """Give back the use an order made of its coupon (idempotent; nothing if it used none)."""
    await session.execute(
        update(CouponRedemption)
        .where(CouponRedemption.order_id == order_id, CouponRedemption.released_at.is_(None))
        .values(released_at=utcnow())
    )


# --- staff administration -----------------------------------------------------------------------


def _coupon_read(coupon: Coupon, redemptions: int) -> CouponRead:
    return CouponRead(
        id=coupon.id,
        code=coupon.code,
        description=coupon.description,
        kind=coupon.kind,
        amount=None if coupon.amount_pence is None else Money.from_pence(coupon.amount_pence),
        percent=coupon.percent,
        min_subtotal=Money.from_pence(coupon.min_subtotal_pence),
        starts_at=coupon.starts_at,
        ends_at=coupon.ends_at,
        max_redemptions=coupon.max_redemptions,
        max_per_customer=coupon.max_per_customer,
        collection_slugs=coupon.collection_slugs,
        active=coupon.active,
        redemptions=redemptions,
        created_at=coupon.created_at,
    )


async def create_coupon(session: AsyncSession, staff: User, data: CouponCreate) -> CouponRead:
    """A new coupon (audited); 409 when the code exists in any letter case."""
    coupon = Coupon(
        code=data.code,
        description=data.description,
        kind=data.kind,
        amount_pence=None if data.amount is None else data.amount.to_pence(),
        percent=data.percent,
        min_subtotal_pence=0 if data.min_subtotal is None else data.min_subtotal.to_pence(),
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        max_redemptions=data.max_redemptions,
        max_per_customer=data.max_per_customer,
        collection_slugs=data.collection_slugs,
    )
    try:
        async with session.begin_nested():
            session.add(coupon)
    except IntegrityError as exc:
        raise ConflictError(f"A coupon with the code {data.code} already exists.") from exc
    await session.refresh(coupon)
    await record_event(
        session,
        "coupon.created",
        actor_id=staff.id,
        target_type="coupon",
        target_id=coupon.id,
        details={"code": coupon.code},
    )
    return _coupon_read(coupon, 0)


async def list_coupons(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[CouponRead], str | None]:
    """Coupons, newest first, with their current usage."""
    after = decode_time_cursor(cursor)
    uses = (
        select(func.count())
        .where(CouponRedemption.coupon_id == Coupon.id, CouponRedemption.released_at.is_(None))
        .scalar_subquery()
    )
    stmt = select(Coupon, uses).order_by(Coupon.created_at.desc(), Coupon.id.desc())
    if after is not None:
        stmt = stmt.where(tuple_(Coupon.created_at, Coupon.id) < after)
    rows = (await session.execute(stmt.limit(limit + 1))).all()
    items = [_coupon_read(coupon, count) for coupon, count in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)])
        if len(rows) > limit
        else None
    )
    return items, next_cursor


async def deactivate_coupon(session: AsyncSession, staff: User, coupon_id: uuid.UUID) -> CouponRead:
    """Stop a coupon being used from now on (audited); uses already made stand."""
    coupon = await session.get(Coupon, coupon_id)
    if coupon is None:
        raise NotFoundError("There is no such coupon.")
    coupon.active = False
    await record_event(
        session,
        "coupon.deactivated",
        actor_id=staff.id,
        target_type="coupon",
        target_id=coupon.id,
        details={"code": coupon.code},
    )
    await session.flush()
    return _coupon_read(coupon, await _uses(session, coupon.id, None))
