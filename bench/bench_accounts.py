"""Login and profile reads: requests/s and p50/p95 at 16 and 64 concurrent clients, 2 workers."""

from __future__ import annotations

import asyncio
import json

import httpx
from harness import Req, load_requests, running_server, save, scratch_database

PASSWORD = "velvet-sapphire-2026"
USERS = 64


async def _prepare(base_url: str) -> list[str]:
    tokens = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for i in range(USERS):
            email = f"bench-{i}@example.com"
            await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
            response = await client.post(
                "/api/auth/login", json={"email": email, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            tokens.append(response.json()["token"])
    return tokens


async def _run(base_url: str) -> None:
    tokens = await _prepare(base_url)
    logins = [
        Req(
            "POST",
            "/api/auth/login",
            body=json.dumps({"email": f"bench-{i}@example.com", "password": PASSWORD}),
        )
        for i in range(USERS)
    ]
    profiles = [Req("GET", "/api/user/profile", {"Authorization": f"Bearer {t}"}) for t in tokens]
    results = []
    for concurrency in (16, 64):
        results.append(await load_requests("login", base_url, logins, concurrency))
        results.append(await load_requests("profile read", base_url, profiles, concurrency))
    save(results, "accounts")


def main() -> None:
    with scratch_database() as url, running_server(url, workers=2) as server:
        asyncio.run(_run(server.base_url))


if __name__ == "__main__":
    main()
