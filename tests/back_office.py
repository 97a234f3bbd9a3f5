"""Helpers of the back-office tests (HTTP and browser): signed-in clients, orders, audit rows."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_helpers import sign_in_staff
from elysium.models import AuditEvent, Order
from factories import Account, placed_order, shopper, stocked_piece


async def signed_in(app: FastAPI, account: Account) -> AsyncClient:
    """A new client of `app` signed in to /admin as `account` (the staff cookie)."""
    transport = ASGITransport(app=app, client=("203.0.113.20", 50000))
    http = AsyncClient(transport=transport, base_url="http://testserver")
    await sign_in_staff(http, account)
    return http


async def new_order(app: FastAPI, client: AsyncClient, **account: Any) -> dict[str, Any]:
    """A bank-transfer order (PENDING) of a £2,400 piece by a new customer."""
    product = await stocked_piece(app, level=3)
    who = await shopper(app, client, product)
    order = await placed_order(client, who)
    order["customer"] = who.account
    return order


async def order_row(app: FastAPI, order_id: str) -> Order:
    session: AsyncSession
    async with app.state.sessionmaker() as session:
        order = await session.get(Order, uuid.UUID(order_id))
    assert order is not None
    return order


async def audit_actions(app: FastAPI, target_id: str) -> list[tuple[str, str | None]]:
    """(action, actor id) of the audit events about one target, oldest first."""
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.actor_id)
            .where(AuditEvent.target_id == target_id)
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    return [(action, None if actor is None else str(actor)) for action, actor in rows]


def ids_on_page(html: str) -> set[str]:
    return set(re.findall(r'data-testid="([^"]+)"', html))


@asynccontextmanager
async def staff_session(app: FastAPI, account: Account) -> AsyncIterator[AsyncClient]:
    """`signed_in`, closed at the end of the block."""
    http = await signed_in(app, account)
    try:
        yield http
    finally:
        await http.aclose()
