"""Cart throughput on the demo catalogue, 2 workers, at 8 and 32 concurrent shoppers:

- cart read:  GET /api/cart of a signed-in shopper holding 5 lines (each priced, stock checked)
- cart add:   POST /api/cart, signed in and as a guest (lines adding up, new engravings);
              guest writes also pass the anonymous-write rate limiter (PostgreSQL by default)
- new guest:  POST /api/cart without a token (creates a cart and a token every time)
- saved read: GET /api/configurations/{code} (priced now)
"""

from __future__ import annotations

import asyncio

import httpx
from harness import load, running_server, save, scratch_database, stock_demo_catalogue

PASSWORD = "velvet-sapphire-2026"
SHOPPERS = 32
RING = "aurora-solitaire"
CONFIG = {"metal": "18k-white-gold", "carat": "0.50", "ring_size": "J"}


async def _stock_everything(database_url: str) -> None:
    """Demo catalogue plus plenty of stock for every variant (the cart checks it)."""
    await stock_demo_catalogue(database_url, 100_000)


async def _shopper(client: httpx.AsyncClient, i: int) -> dict[str, str]:
    email = f"cart-bench-{i}@example.com"
    await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    for n in range(5):
        body = {"product_slug": RING, "configuration": CONFIG | {"engraving": f"E{n}"}}
        response = await client.post("/api/cart", json=body, headers=headers)
        assert response.status_code == 201, response.text
    return headers


async def _prepare(base_url: str) -> tuple[list[dict[str, str]], list[str], str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        shoppers = [await _shopper(client, i) for i in range(SHOPPERS)]
        guests = []
        for _ in range(SHOPPERS):
            created = await client.post(
                "/api/cart", json={"product_slug": RING, "configuration": CONFIG}
            )
            guests.append(created.headers["x-cart-token"])
        saved = await client.post(
            "/api/cart/save-configuration", json={"product_slug": RING, "configuration": CONFIG}
        )
    return shoppers, guests, saved.json()["code"]


async def _run(base_url: str) -> None:
    shoppers, guests, code = await _prepare(base_url)

    async def read(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.get("/api/cart", headers=shoppers[i % SHOPPERS])

    async def add(client: httpx.AsyncClient, i: int) -> httpx.Response:
        config = CONFIG | {"engraving": f"G{i % 40}"}
        body = {"product_slug": RING, "configuration": config, "quantity": 1}
        return await client.post(
            "/api/cart", json=body, headers={"X-Cart-Token": guests[i % SHOPPERS]}
        )

    async def add_signed_in(client: httpx.AsyncClient, i: int) -> httpx.Response:
        config = CONFIG | {"engraving": f"S{i % 40}"}
        body = {"product_slug": RING, "configuration": config, "quantity": 1}
        return await client.post("/api/cart", json=body, headers=shoppers[i % SHOPPERS])

    async def new_guest(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post("/api/cart", json={"product_slug": RING, "configuration": CONFIG})

    async def saved(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.get(f"/api/configurations/{code}")

    def added_or_full(response: httpx.Response) -> bool:
        return response.status_code in (201, 422)  # a line reaching 10 is refused, by design

    results = []
    for concurrency in (8, 32):
        results.append(await load("cart read (5 lines)", base_url, read, concurrency))
        results.append(
            await load(
                "cart add (signed in)", base_url, add_signed_in, concurrency, ok=added_or_full
            )
        )
        results.append(await load("cart add (guest)", base_url, add, concurrency, ok=added_or_full))
        results.append(await load("new guest cart", base_url, new_guest, concurrency))
        results.append(await load("saved configuration read", base_url, saved, concurrency))
    save(results, "cart")


def main() -> None:
    with scratch_database() as url:
        asyncio.run(_stock_everything(url))
        with running_server(url, workers=2) as server:
            asyncio.run(_run(server.base_url))


if __name__ == "__main__":
    main()
