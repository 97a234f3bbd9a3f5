"""Catalogue reads and pricing: requests/s and p50/p95 at 64 concurrent clients, 2 workers.

The demo catalogue is loaded into the scratch database first. Lists and product pages are served
from each worker's in-process cache after the first request; so is the product a price needs.
Because the load generator (and anything else running) shares the machine with the server, each
scenario also reports the server's own CPU time per request, read from /proc: 2 cores divided by
that figure is what the server could serve on an otherwise idle 2-core machine.
"""

from __future__ import annotations

import asyncio
import json

from harness import (
    Req,
    Result,
    load_requests,
    process_cpu_seconds,
    running_server,
    save,
    scratch_database,
    server_pids,
)

from elysium.demo import load_demo_into

CONCURRENCY = 64
SLUGS = [
    "aurora-solitaire",
    "celeste-halo",
    "nova-pendant",
    "vesper-diamond-studs",
    "riviera-tennis-bracelet",
    "emerald-cut-sapphire-ring",
    "bespoke-signet",
    "orbit-hoops",
]
LISTS = [
    "/api/products",
    "/api/products?collection=bridal",
    "/api/products?collection=fine",
    "/api/products?category=earrings",
    "/api/products?q=sapphire",
    "/api/collections",
]
# the filters, sorts and facets of the jeweller's catalogue (issue 14); older code ignores them
FILTERED_LISTS = [
    "/api/products?category=rings",
    "/api/products?category=rings&metal=platinum&sort=price_asc",
    "/api/products?min_price=1000&max_price=5000&sort=price_desc",
    "/api/products?collection=fine&sort=featured",
    "/api/products?sort=popular",
    "/api/products?sort=newest&limit=5",
    "/api/categories",
]
PRICES = [
    ("aurora-solitaire", {"metal": "platinum", "carat": "1.00", "ring_size": "L"}),
    ("nova-pendant", {"metal": "18k-rose-gold", "chain_length": "50cm"}),
    ("vesper-diamond-studs", {"metal": "platinum", "carat": "0.75"}),
    ("bespoke-signet", {"metal": "18k-white-gold", "ring_size": "M", "engraving": "EB"}),
]


def _server_cpu_seconds(port: str) -> float:
    return sum(process_cpu_seconds(pid) for pid in server_pids(port))


async def _measured(name: str, base_url: str, requests: list[Req]) -> Result:
    port = base_url.rsplit(":", 1)[1]
    before = _server_cpu_seconds(port)
    result = await load_requests(name, base_url, requests, CONCURRENCY, duration=10)
    cpu_ms = (_server_cpu_seconds(port) - before) * 1000 / max(result.requests, 1)
    print(
        f"{name}: server CPU {cpu_ms:.2f} ms/request -> {2000 / cpu_ms:.0f} req/s on 2 idle cores"
    )
    return result


async def _run(base_url: str) -> None:
    prices = [
        Req("POST", f"/api/products/{slug}/price", body=json.dumps({"configuration": config}))
        for slug, config in PRICES
    ]
    # Steady state: each process's catalogue cache warmed first (3 s, not measured), as a
    # running shop's is; the first run otherwise measured every process's cold misses.
    warm = [Req("GET", path) for path in (*LISTS, *FILTERED_LISTS)]
    warm += [Req("GET", f"/api/products/{slug}") for slug in SLUGS]
    await load_requests("warm-up", base_url, warm, CONCURRENCY, duration=3)
    results = [
        await _measured("catalogue list", base_url, [Req("GET", path) for path in LISTS]),
        await _measured(
            "catalogue list, filtered and sorted",
            base_url,
            [Req("GET", path) for path in FILTERED_LISTS],
        ),
        await _measured(
            "product detail", base_url, [Req("GET", f"/api/products/{slug}") for slug in SLUGS]
        ),
        await _measured("price a configuration", base_url, prices),
    ]
    save(results, "catalog")


def main() -> None:
    with scratch_database() as url:
        asyncio.run(load_demo_into(url, only_if_empty=False))
        with running_server(url, workers=2) as server:
            asyncio.run(_run(server.base_url))


if __name__ == "__main__":
    main()
