"""`orders.place.place_order` hands back the same thing fresh or replayed: a frozen read model,
so nobody can change the order it placed outside the use cases that lock it. (A fresh checkout
used to return an ORM object outside the session, whose changes were silently lost, and a
replayed one a tracked object.)"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from elysium.config import Settings
from elysium.models import Order, User
from elysium.models.order import OrderStatus
from elysium.orders.place import PlacedOrder, place_order
from elysium.orders.schemas import CheckoutRequest
from elysium.payments.service import BANK_TRANSFER
from factories import Shopper, shopper, stocked_piece


async def _place(app: FastAPI, settings: Settings, who: Shopper, key: str) -> PlacedOrder:
    request = CheckoutRequest(
        shipping_address_id=uuid.UUID(who.address_id),
        billing_address_id=uuid.UUID(who.address_id),
    )
    async with app.state.sessionmaker() as session, session.begin():
        user = await session.get(User, uuid.UUID(who.account.id))
        assert user is not None
        return await place_order(session, settings, user, request, key, provider=BANK_TRANSFER)


async def test_the_placed_order_cannot_be_changed_fresh_or_replayed(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    who = await shopper(app, client, await stocked_piece(app))
    fresh = await _place(app, settings, who, "key-1")
    again = await _place(app, settings, who, "key-1")
    assert (fresh.replayed, again.replayed) == (False, True)
    assert type(fresh) is type(again) is PlacedOrder
    assert dataclasses.replace(again, replayed=False) == fresh  # the same facts either way
    for placed in (fresh, again):
        with pytest.raises(dataclasses.FrozenInstanceError):
            placed.status = OrderStatus.PAID  # type: ignore[misc]
    async with app.state.sessionmaker() as session:
        stored = (await session.scalars(select(Order))).one()
    assert (stored.id, stored.status, stored.total_pence) == (
        fresh.id,
        fresh.status,
        fresh.total_pence,
    )
