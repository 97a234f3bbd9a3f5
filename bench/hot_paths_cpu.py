"""CPU per request of the product-page hot paths: track-view, recently-viewed, cart read.

On a shared two-core machine requests per second follow whatever else runs; the CPU a request
costs does not (much). For each scenario, 64 wrk connections for BENCH_SECONDS (default 10):
the measured rate and latency, the CPU the gunicorn workers and the PostgreSQL backends of the
bench database spent (from /proc), and the rate two otherwise idle cores would sustain at that
cost (2 s of CPU per second / CPU per request). The first scenario is the floor:
`/health/live`, which does nothing, so the server, middleware and framework alone. Needs wrk.

Run: `uv run --frozen python bench/hot_paths_cpu.py` (TEST_DATABASE_URL as for `make bench`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys

import psycopg
from bench_analytics import _seed_views
from bench_cart import RING, _prepare
from harness import (
    RESULTS,
    Req,
    load_requests,
    process_cpu_seconds,
    redis_env,
    running_server,
    scratch_database,
    server_pids,
)
from harness import stock_demo_catalogue as _stock

from elysium.db import libpq_url

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = 64
CORES = 2


def _backend_pids(database_url: str) -> list[int]:
    database = database_url.rsplit("/", 1)[1]
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [pid for (pid,) in rows]


async def _measure(
    name: str, base_url: str, database_url: str, port: int, requests: list[Req]
) -> dict[str, object]:
    await load_requests(name, base_url, requests, CLIENTS, duration=2)  # warm: pools, caches
    app, backends = server_pids(port), _backend_pids(database_url)
    before = {pid: process_cpu_seconds(pid) for pid in app + backends}
    result = await load_requests(name, base_url, requests, CLIENTS, duration=SECONDS)
    backends = sorted(set(backends) | set(_backend_pids(database_url)))
    # a backend that ended meanwhile reads 0: its share is lost, never negative
    app_cpu = sum(max(process_cpu_seconds(pid) - before.get(pid, 0.0), 0.0) for pid in app)
    pg_cpu = sum(max(process_cpu_seconds(pid) - before.get(pid, 0.0), 0.0) for pid in backends)
    per_request_ms = (app_cpu + pg_cpu) / max(result.requests, 1) * 1000
    row = {
        "scenario": name,
        "clients": CLIENTS,
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "p95_ms": result.p95_ms,
        "errors": result.errors,
        "app_cpu_ms_per_request": round(app_cpu / max(result.requests, 1) * 1000, 3),
        "pg_cpu_ms_per_request": round(pg_cpu / max(result.requests, 1) * 1000, 3),
        "idle_machine_rps_estimate": round(CORES * 1000 / per_request_ms) if per_request_ms else 0,
    }
    print(
        f"{name:<28} {result.rps:8.1f} req/s  p50 {result.p50_ms:6.1f}  p95 {result.p95_ms:6.1f} ms"
        f"  errors {result.errors}  CPU/request app {row['app_cpu_ms_per_request']} ms"
        f" + PostgreSQL {row['pg_cpu_ms_per_request']} ms"
        f"  -> ~{row['idle_machine_rps_estimate']} req/s on {CORES} idle cores"
    )
    return row


async def _run(base_url: str, database_url: str, port: int, slugs: list[str]) -> list[object]:
    shoppers, _, _ = await _prepare(base_url)
    tracks = [
        Req(
            "POST",
            "/api/analytics/track-view",
            body=json.dumps(
                {"product_slug": slugs[i % len(slugs)], "session_id": f"cpu-session-{i}"}
            ),
        )
        for i in range(500)
    ]
    signed_tracks = [
        Req(
            "POST",
            "/api/analytics/track-view",
            headers=shoppers[i % len(shoppers)],
            body=json.dumps({"product_slug": slugs[i % len(slugs)]}),
        )
        for i in range(500)
    ]
    recents = [
        Req("GET", f"/api/analytics/recently-viewed?session_id=bench-session-{i}")
        for i in range(500)
    ]
    carts = [Req("GET", "/api/cart", headers=headers) for headers in shoppers]
    floor = [Req("GET", "/health/live")]  # the stack alone: what no endpoint can beat here
    return [
        await _measure("floor: /health/live", base_url, database_url, port, floor),
        await _measure("track a view (guest)", base_url, database_url, port, tracks),
        await _measure("track a view (signed in)", base_url, database_url, port, signed_tracks),
        await _measure("recently viewed (guest)", base_url, database_url, port, recents),
        await _measure("cart read (5 lines)", base_url, database_url, port, carts),
    ]


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("hot_paths_cpu needs wrk (Debian package `wrk`)")
    with scratch_database() as url:
        asyncio.run(_stock(url, 100_000))
        slugs = [s for s in _seed_views(url) if s != RING] + [RING]
        with running_server(url, workers=2, env=redis_env()) as server:
            port = int(server.base_url.rsplit(":", 1)[1])
            rows = asyncio.run(_run(server.base_url, url, port, slugs))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hot_paths_cpu.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
