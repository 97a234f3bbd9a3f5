"""Checkout throughput (bank transfer), 2 workers, at 8 and 32 concurrent customers.

Set-up (untimed): customers with a session and a UK address are written through the service
layer; each one's cart gets one piece through `POST /api/cart`, spread over the demo
catalogue's stocked variants (ample stock).

Timed: each concurrent customer takes the next customer with a full cart and POSTs
/api/checkout with a fresh Idempotency-Key: one transaction pricing the cart, reserving
stock, writing the order, its lines, history, idempotency record and bank transfer email,
then the payment row. Every checkout is a new order; none is a replay.

Figures: completed checkouts per second (201 answers / wall time) and the checkout's
p50/p95/p99 latency. A third line, "cart add + checkout", is one customer's whole loop (add
a piece, check out, again) for comparison; it counts checkouts per second.

The client is `KeepAliveClient` (see harness): httpx would take ~2 ms of CPU per request
from the server on this 2-core machine.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from harness import (
    KeepAliveClient,
    Result,
    running_server,
    save,
    scratch_database,
    stock_demo_catalogue,
    summarise,
)

from elysium.accounts import security
from elysium.accounts.service import open_session
from elysium.catalog.pricing import ProductSpec
from elysium.config import get_settings
from elysium.db import create_engine, create_sessionmaker
from elysium.models import Address, User

PASSWORD = "velvet-sapphire-2026"
PER_LEVEL = 1500
WARM_UP = 200
CYCLE_SECONDS = 10.0
LEVELS = (8, 32)

Piece = tuple[str, dict[str, str]]


@dataclass(frozen=True)
class Customer:
    headers: dict[str, str]
    body: dict[str, str]


def _configuration(spec: ProductSpec) -> dict[str, str]:
    """The first value of every option: a valid configuration of a stocked variant."""
    return {option.name: option.values[0].value for option in spec.options}


async def _stock_catalogue(database_url: str) -> list[Piece]:
    """Demo catalogue with ample stock for every variant; returns (slug, configuration) pairs."""
    specs = await stock_demo_catalogue(database_url, 1_000_000)
    return [(spec.slug, _configuration(spec)) for spec in specs if not spec.made_to_order]


async def _customers(database_url: str, count: int) -> list[Customer]:
    """`count` signed-in customers with a UK address, written through the service layer."""
    settings = get_settings()
    password_hash = security.hash_password(PASSWORD)
    engine = create_engine(settings, database_url)
    customers = []
    async with create_sessionmaker(engine)() as session, session.begin():
        users = [
            User(email=f"checkout-bench-{i}@example.com", password_hash=password_hash)
            for i in range(count)
        ]
        session.add_all(users)
        await session.flush()
        for user in users:
            address = Address(
                user_id=user.id,
                type="shipping",
                line1="1 Bond Street",
                city="London",
                postal_code="W1S 1AA",
                country="GB",
            )
            session.add(address)
            signed_in = await open_session(session, settings, user, "bench")
            await session.flush()
            headers = {"Authorization": f"Bearer {signed_in.token}"}
            ids = {"shipping_address_id": str(address.id), "billing_address_id": str(address.id)}
            customers.append(Customer(headers, ids))
    await engine.dispose()
    return customers


async def _add_to_cart(client: KeepAliveClient, customer: Customer, piece: Piece) -> None:
    slug, configuration = piece
    body = {"product_slug": slug, "configuration": configuration, "quantity": 1}
    status, answer = await client.request("POST", "/api/cart", customer.headers, body)
    if status != 201:
        raise RuntimeError(f"cart {status}: {answer[:200]!r}")


async def _fill_carts(base_url: str, customers: list[Customer], pieces: list[Piece]) -> None:
    """One piece in every customer's cart (untimed), 16 requests at a time."""
    queue = iter(enumerate(customers))

    async def worker() -> None:
        async with KeepAliveClient(base_url) as client:
            for i, customer in queue:
                await _add_to_cart(client, customer, pieces[i % len(pieces)])

    await asyncio.gather(*(worker() for _ in range(16)))


async def _checkout(client: KeepAliveClient, customer: Customer) -> tuple[float, bool]:
    headers = customer.headers | {"Idempotency-Key": str(uuid.uuid4())}
    started = time.perf_counter()
    status, _ = await client.request("POST", "/api/checkout", headers, customer.body)
    return time.perf_counter() - started, status == 201


async def _level(base_url: str, customers: list[Customer], concurrency: int) -> Result:
    """Every customer checks out once, `concurrency` at a time."""
    queue: Iterator[Customer] = iter(customers)
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        async with KeepAliveClient(base_url) as client:
            for customer in queue:
                latency, ok = await _checkout(client, customer)
                latencies.append(latency)
                errors += 0 if ok else 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return summarise(
        "checkout (bank transfer)", concurrency, latencies, errors, elapsed, successes_only=True
    )


async def _cycle(
    base_url: str, customers: list[Customer], pieces: list[Piece], concurrency: int
) -> Result:
    """Each customer adds a piece and checks out, over and over, for CYCLE_SECONDS."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + CYCLE_SECONDS

    async def shopper(customer: Customer, piece: Piece) -> None:
        nonlocal errors
        async with KeepAliveClient(base_url) as client:
            while time.perf_counter() < stop_at:
                await _add_to_cart(client, customer, piece)
                latency, ok = await _checkout(client, customer)
                latencies.append(latency)
                errors += 0 if ok else 1

    began = time.perf_counter()
    await asyncio.gather(
        *(shopper(customers[i], pieces[i % len(pieces)]) for i in range(concurrency))
    )
    elapsed = time.perf_counter() - began
    return summarise(
        "cart add + checkout", concurrency, latencies, errors, elapsed, successes_only=True
    )


def _batches(customers: list[Customer]) -> Iterator[list[Customer]]:
    yield customers[:WARM_UP]
    for i in range(len(LEVELS)):
        start = WARM_UP + i * PER_LEVEL
        yield customers[start : start + PER_LEVEL]


async def _run(base_url: str, customers: list[Customer], pieces: list[Piece]) -> None:
    await _fill_carts(base_url, customers, pieces)
    warm_up, *batches = _batches(customers)
    await _level(base_url, warm_up, 8)
    results = [await _level(base_url, batch, n) for batch, n in zip(batches, LEVELS, strict=True)]
    results.append(await _cycle(base_url, customers, pieces, 8))
    save(results, "checkout")


def main() -> None:
    with scratch_database() as url:
        pieces = asyncio.run(_stock_catalogue(url))
        customers = asyncio.run(_customers(url, WARM_UP + PER_LEVEL * len(LEVELS)))
        with running_server(url, workers=2) as server:
            asyncio.run(_run(server.base_url, customers, pieces))


if __name__ == "__main__":
    main()
