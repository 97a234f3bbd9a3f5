"""Checkout throughput (bank transfer), 2 workers, at 8 and 32 concurrent customers.

Each customer has an account and a UK address made beforehand. Per iteration it adds one
piece to its cart (untimed), then POSTs /api/checkout with a fresh Idempotency-Key (timed):
one transaction pricing the cart, reserving stock, redeeming nothing, writing the order,
its lines, history, idempotency record and bank transfer email, then the payment row.
Pieces are spread over the demo catalogue's stocked variants, with ample stock.

Figures: completed checkouts per second (checkouts / wall time, cart adds included in the
wall time) and the checkout request's p50/p95/p99 latency.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from harness import Result, running_server, save, scratch_database, stock_demo_catalogue

from elysium.catalog.pricing import ProductSpec

PASSWORD = "velvet-sapphire-2026"
CUSTOMERS = 32
DURATION = 10.0
ADDRESS = {
    "type": "shipping",
    "line1": "1 Bond Street",
    "city": "London",
    "postal_code": "W1S 1AA",
    "country": "GB",
}


@dataclass(frozen=True)
class Customer:
    headers: dict[str, str]
    address_id: str


def _configuration(spec: ProductSpec) -> dict[str, str]:
    """The first value of every option: a valid configuration of a stocked variant."""
    return {option.name: option.values[0].value for option in spec.options}


async def _stock_catalogue(database_url: str) -> list[tuple[str, dict[str, str]]]:
    """Demo catalogue with ample stock for every variant; returns (slug, configuration) pairs."""
    specs = await stock_demo_catalogue(database_url, 1_000_000)
    return [(spec.slug, _configuration(spec)) for spec in specs if not spec.made_to_order]


async def _customer(client: httpx.AsyncClient, i: int) -> Customer:
    email = f"checkout-bench-{i}@example.com"
    await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    address = await client.post("/api/user/addresses", json=ADDRESS, headers=headers)
    return Customer(headers, address.json()["id"])


async def _shop(
    client: httpx.AsyncClient,
    customer: Customer,
    piece: tuple[str, dict[str, str]],
    stop_at: float,
    latencies: list[float],
    failures: list[str],
) -> None:
    slug, configuration = piece
    body: dict[str, Any] = {
        "shipping_address_id": customer.address_id,
        "billing_address_id": customer.address_id,
    }
    while time.perf_counter() < stop_at:
        cart = {"product_slug": slug, "configuration": configuration, "quantity": 1}
        added = await client.post("/api/cart", json=cart, headers=customer.headers)
        if added.status_code != 201:
            failures.append(f"cart {added.status_code}: {added.text[:200]}")
            continue
        headers = customer.headers | {"Idempotency-Key": str(uuid.uuid4())}
        started = time.perf_counter()
        response = await client.post("/api/checkout", json=body, headers=headers)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 201:
            failures.append(f"checkout {response.status_code}: {response.text[:200]}")


def _result(concurrency: int, latencies: list[float], errors: int, elapsed: float) -> Result:
    ordered = sorted(latencies) or [0.0]
    q = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else [ordered[0]] * 99
    completed = len(latencies) - errors
    return Result(
        name="checkout (bank transfer)",
        concurrency=concurrency,
        requests=len(latencies),
        errors=errors,
        seconds=round(elapsed, 2),
        rps=round(completed / elapsed, 1),
        p50_ms=round(q[49] * 1000, 1),
        p95_ms=round(q[94] * 1000, 1),
        p99_ms=round(q[98] * 1000, 1),
    )


async def _level(
    base_url: str, customers: list[Customer], pieces: list[tuple[str, dict[str, str]]], n: int
) -> Result:
    latencies: list[float] = []
    failures: list[str] = []
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        began = time.perf_counter()
        stop_at = began + DURATION
        await asyncio.gather(
            *(
                _shop(client, customers[i], pieces[i % len(pieces)], stop_at, latencies, failures)
                for i in range(n)
            )
        )
        elapsed = time.perf_counter() - began
    for failure in failures[:5]:
        print("failure:", failure)
    return _result(n, latencies, len(failures), elapsed)


async def _run(base_url: str, pieces: list[tuple[str, dict[str, str]]]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        customers = [await _customer(client, i) for i in range(CUSTOMERS)]
    await _level(base_url, customers, pieces, 8)  # warm-up: connections, caches
    results = [await _level(base_url, customers, pieces, n) for n in (8, 32)]
    save(results, "checkout")


def main() -> None:
    with scratch_database() as url:
        pieces = asyncio.run(_stock_catalogue(url))
        with running_server(url, workers=2) as server:
            asyncio.run(_run(server.base_url, pieces))


if __name__ == "__main__":
    main()
