"""Redeeming coupons at checkout: atomic limits under concurrency, idempotency, release."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from elysium.errors import ConflictError
from elysium.models import Coupon, CouponRedemption
from elysium.promotions.service import redeem_coupon, release_coupon
from factories import Account


async def _coupon(app: FastAPI, **fields: object) -> uuid.UUID:
    coupon = Coupon(code=f"R{uuid.uuid4().hex[:10]}".upper(), kind="fixed", amount_pence=1000)
    for name, value in fields.items():
        setattr(coupon, name, value)
    async with app.state.sessionmaker() as session, session.begin():
        session.add(coupon)
    return coupon.id


async def _redeem(app: FastAPI, coupon_id: uuid.UUID, user_id: uuid.UUID | None = None) -> bool:
    try:
        async with app.state.sessionmaker() as session, session.begin():
            await redeem_coupon(session, coupon_id, user_id=user_id, order_id=uuid.uuid4())
    except ConflictError:
        return False
    return True


async def _active_uses(app: FastAPI, coupon_id: uuid.UUID) -> int:
    async with app.state.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).where(
                CouponRedemption.coupon_id == coupon_id, CouponRedemption.released_at.is_(None)
            )
        )
    return count or 0


async def test_concurrent_redemptions_of_a_single_use_coupon(app: FastAPI) -> None:
    coupon_id = await _coupon(app, max_redemptions=1)
    outcomes = await asyncio.gather(*(_redeem(app, coupon_id) for _ in range(10)))
    assert outcomes.count(True) == 1
    assert await _active_uses(app, coupon_id) == 1


async def test_concurrent_redemptions_respect_a_limit_of_three(app: FastAPI) -> None:
    coupon_id = await _coupon(app, max_redemptions=3)
    outcomes = await asyncio.gather(*(_redeem(app, coupon_id) for _ in range(12)))
    assert outcomes.count(True) == 3
    assert await _active_uses(app, coupon_id) == 3


async def test_per_customer_limit_holds_under_concurrency(app: FastAPI, customer: Account) -> None:
    coupon_id = await _coupon(app, max_per_customer=1)
    user_id = uuid.UUID(customer.id)
    outcomes = await asyncio.gather(*(_redeem(app, coupon_id, user_id) for _ in range(6)))
    assert outcomes.count(True) == 1


async def test_redeeming_is_idempotent_per_order_and_release_gives_the_use_back(
    app: FastAPI,
) -> None:
    coupon_id = await _coupon(app, max_redemptions=1)
    order_id = uuid.uuid4()
    for _ in range(2):
        async with app.state.sessionmaker() as session, session.begin():
            await redeem_coupon(session, coupon_id, user_id=None, order_id=order_id)
    assert await _active_uses(app, coupon_id) == 1
    assert not await _redeem(app, coupon_id)
    async with app.state.sessionmaker() as session, session.begin():
        await release_coupon(session, order_id=order_id)
    assert await _active_uses(app, coupon_id) == 0
    assert await _redeem(app, coupon_id)
    async with app.state.sessionmaker() as session, session.begin():
        with pytest.raises(ConflictError):
            await redeem_coupon(session, coupon_id, user_id=None, order_id=order_id)
