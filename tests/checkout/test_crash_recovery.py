"""A real crash: the server is killed (SIGKILL) after the order commits, while it waits for the
payment provider. Nothing is lost: the order is there, PENDING, holding its stock; the same
Idempotency-Key gets the same order back; and expiry gives the stock back."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update

from elysium.config import Settings
from elysium.kit.clock import utcnow
from elysium.models import Order, StockReservation
from elysium.orders.cancel import expire_unpaid_orders
from factories import HALF_CARAT_KEY, checkout_body, shopper, stocked_piece
from live_server import start_live_server

pytestmark = pytest.mark.slow  # a real server process, killed


@pytest.fixture
def silent_provider() -> Iterator[int]:
    """A 'payment provider' that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    for conn in held:
        conn.close()


def _start_server(database_url: str, provider_port: int) -> tuple[subprocess.Popen[bytes], str]:
    return start_live_server(
        database_url,
        {
            "PAYMENT_PROVIDER": "stripe",
            "STRIPE_SECRET_KEY": "sk_test_crash",
            "STRIPE_WEBHOOK_SECRET": "whsec_crash",
            "STRIPE_API_BASE": f"http://127.0.0.1:{provider_port}",
        },
    )


async def _wait_for_order(app: FastAPI, within: float = 20) -> Order:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with app.state.sessionmaker() as session:
            order: Order | None = await session.scalar(select(Order))
        if order is not None:
            return order
        await asyncio.sleep(0.1)
    raise AssertionError("the order was never committed")


async def _available(client: AsyncClient, slug: str) -> int:
    variants = (await client.get(f"/api/inventory/{slug}")).json()
    return int(
        next(v for v in variants["variants"] if v["variant_key"] == HALF_CARAT_KEY)["available"]
    )


async def test_killed_server_loses_nothing_and_expiry_returns_stock(
    app: FastAPI, client: AsyncClient, settings: Settings, database_url: str, silent_provider: int
) -> None:
    product = await stocked_piece(app, level=1)
    who = await shopper(app, client, product)
    headers = who.headers | {"Idempotency-Key": "crash-key"}

    proc, base = _start_server(database_url, silent_provider)
    try:
        request = asyncio.create_task(
            asyncio.to_thread(
                httpx.post,
                f"{base}/api/checkout",
                json=checkout_body(who),
                headers=headers,
                timeout=60,
            )
        )
        order = await _wait_for_order(app)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        with pytest.raises(httpx.HTTPError):
            await request
    finally:
        if proc.poll() is None:
            proc.kill()

    assert order.status == "PENDING"
    assert await _available(client, product.slug) == 0
    replay = await client.post("/api/checkout", json=checkout_body(who), headers=headers)
    assert replay.status_code == 201
    assert replay.json()["order"]["id"] == str(order.id)

    async with app.state.sessionmaker() as session, session.begin():
        past = utcnow() - timedelta(minutes=1)
        await session.execute(update(Order).values(reservation_expires_at=past))
        await session.execute(update(StockReservation).values(expires_at=past))
    async with app.state.sessionmaker() as session, session.begin():
        assert await expire_unpaid_orders(session, settings) == 1
    async with app.state.sessionmaker() as session:
        expired = await session.get(Order, order.id)
    assert expired is not None
    assert expired.status == "CANCELLED"
    assert await _available(client, product.slug) == 1
