"""Mixed workload: N concurrent simulated shoppers, each thinking between page views.

Each shopper is a loop: think (exponential, mean THINK seconds, 0.5 to 4 x the mean), then one
action drawn with the issue's mix:

- browse and search 60 %: a catalogue list (collection/category filters: 40) or a search (20)
- product detail and price 15 %: GET the product, POST a configuration's price
- track view 10 %: POST track-view, then GET recently-viewed (what a product page does)
- cart 10 %: GET the shopper's cart
- checkout 5 %: add a piece to the cart, then POST /api/checkout (signed in, bank transfer)

Every shopper has a customer account (made untimed, through the service layer); even-numbered
shoppers track views as guests (session id, rate limited per IP), odd ones signed in.

Offered rate: what the shoppers ask for, N / mean think time (the rate if answers were
instant). Achieved: answers per second. Latency per endpoint counts only requests started in
the measured window (after WARM_UP seconds of ramp-up). Sampled once a second: the service's
database connections (pg_stat_activity, total and not idle) and CPU from /proc for the
gunicorn master and workers, the PostgreSQL backends serving the bench database, and this
load generator.

Load generator: this process, asyncio and raw HTTP/1.1 keep-alive connections (harness's
`KeepAliveClient`, one per shopper, reopened after 4 s idle like a browser, below the server's
5 s keep-alive): tens of microseconds of CPU per request, where Locust (gevent + requests)
costs about a millisecond and would take a core from the server on this two-core machine.

Environment: BENCH_SHOPPERS (comma-separated levels, default 1000), BENCH_SECONDS (measured
seconds per level, default 20), BENCH_THINK (mean think time, default 5), BENCH_WARM_UP (10).
`make bench BENCH_ARGS=shoppers` runs it; results go to bench/results/shoppers.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import psycopg
from bench_checkout import Customer, Piece, _customers, _stock_catalogue
from harness import (
    RESULTS,
    KeepAliveClient,
    process_cpu_seconds,
    redis_env,
    running_server,
    scratch_database,
    server_pids,
)

from elysium.db import libpq_url

LEVELS = [int(n) for n in os.environ.get("BENCH_SHOPPERS", "1000").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
THINK = float(os.environ.get("BENCH_THINK", "5"))
WARM_UP = float(os.environ.get("BENCH_WARM_UP", "10"))
IDLE_RECONNECT = 4.0
GOAL_P95_MS = 200.0

LISTS = [
    "/api/products",
    "/api/products?collection=bridal",
    "/api/products?collection=fine",
    "/api/products?category=earrings",
    "/api/products?category=rings",
    "/api/collections",
]
SEARCHES = ["sapphire", "diamond", "gold", "ring", "emerald", "pearl", "saphire", "platnum"]
MIX = [("browse", 40), ("search", 20), ("product", 15), ("track", 10), ("cart", 10), ("buy", 5)]


@dataclass
class Recorder:
    """Latencies per endpoint of requests started inside the measured window."""

    opens_at: float
    closes_at: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, name: str, started: float, latency: float, ok: bool, status: int) -> None:
        if not self.opens_at <= started < self.closes_at:
            return
        self.latencies[name].append(latency)
        if not ok:
            self.errors[name] += 1
            self.statuses[name][status] = self.statuses[name].get(status, 0) + 1


class Browser:
    """One shopper's connection: keep-alive, reopened after IDLE_RECONNECT seconds idle."""

    def __init__(self, base_url: str, recorder: Recorder) -> None:
        self.base_url = base_url
        self.recorder = recorder
        self.client: KeepAliveClient | None = None
        self.last_used = 0.0

    async def close(self) -> None:
        if self.client is not None:
            await self.client.__aexit__()
            self.client = None

    async def call(
        self,
        name: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: object = None,
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, bytes]:
        started = time.perf_counter()
        if self.client is None or started - self.last_used > IDLE_RECONNECT:
            await self.close()
            self.client = await KeepAliveClient(self.base_url).__aenter__()
        try:
            status, answer = await self.client.request(method, path, headers, body)
        except (OSError, asyncio.IncompleteReadError):
            await self.close()
            status, answer = 0, b""
        self.last_used = time.perf_counter()
        self.recorder.add(name, started, self.last_used - started, status in ok, status)
        return status, answer


def _think(rng: random.Random) -> float:
    return min(max(rng.expovariate(1 / THINK), THINK / 2), THINK * 4)


async def _shopper(
    i: int,
    base_url: str,
    customer: Customer,
    pieces: list[Piece],
    recorder: Recorder,
    stop_at: float,
) -> None:
    rng = random.Random(i)
    browser = Browser(base_url, recorder)
    guest = i % 2 == 0
    session_id = f"shopper-{i:06d}-{uuid.uuid4().hex[:8]}"
    signed_in = customer.headers
    actions = [name for name, weight in MIX for _ in range(weight)]
    await asyncio.sleep(rng.uniform(0, THINK * 2))  # arrivals spread over the ramp-up
    try:
        while time.perf_counter() < stop_at:
            action = rng.choice(actions)
            slug, configuration = rng.choice(pieces)
            if action == "browse":
                await browser.call("catalogue list", "GET", rng.choice(LISTS), {})
            elif action == "search":
                query = rng.choice(SEARCHES)
                await browser.call("search", "GET", f"/api/products?q={query}", {})
            elif action == "product":
                await browser.call("product detail", "GET", f"/api/products/{slug}", {})
                await browser.call(
                    "price",
                    "POST",
                    f"/api/products/{slug}/price",
                    {},
                    {"configuration": configuration},
                )
            elif action == "track":
                headers = {} if guest else signed_in
                body = {"product_slug": slug} | ({"session_id": session_id} if guest else {})
                await browser.call(
                    "track view", "POST", "/api/analytics/track-view", headers, body, ok=(202,)
                )
                query = f"?session_id={session_id}" if guest else ""
                await browser.call(
                    "recently viewed", "GET", f"/api/analytics/recently-viewed{query}", headers
                )
            elif action == "cart":
                await browser.call("cart read", "GET", "/api/cart", signed_in)
            else:
                body = {"product_slug": slug, "configuration": configuration, "quantity": 1}
                status, _ = await browser.call(
                    "cart add", "POST", "/api/cart", signed_in, body, ok=(201,)
                )
                if status == 201:
                    headers = signed_in | {"Idempotency-Key": str(uuid.uuid4())}
                    await browser.call(
                        "checkout", "POST", "/api/checkout", headers, customer.body, ok=(201,)
                    )
            await asyncio.sleep(_think(rng))
    finally:
        await browser.close()


@dataclass
class Sampler:
    """Once a second: connections and CPU; cumulative CPU kept per process (max seen)."""

    database_url: str
    port: int
    connections: list[tuple[int, int]] = field(default_factory=list)
    app_cpu: dict[int, tuple[float, float]] = field(default_factory=dict)
    pg_cpu: dict[int, tuple[float, float]] = field(default_factory=dict)

    def _track(self, table: dict[int, tuple[float, float]], pids: list[int]) -> None:
        for pid in pids:
            now = process_cpu_seconds(pid)
            first, _ = table.get(pid, (now, now))
            table[pid] = (first, now)

    async def run(self, stop: asyncio.Event) -> None:
        database = self.database_url.rsplit("/", 1)[1]
        sql = (
            "SELECT pid, state FROM pg_stat_activity WHERE datname = %s"
            " AND application_name LIKE 'elysium%%'"
        )
        async with await psycopg.AsyncConnection.connect(
            libpq_url(self.database_url), autocommit=True
        ) as conn:
            own = conn.info.backend_pid
            while not stop.is_set():
                rows = await (await conn.execute(sql, (database,))).fetchall()
                busy = sum(1 for _, state in rows if state != "idle")
                self.connections.append((len(rows), busy))
                backends = [pid for pid, _ in rows if pid != own]
                self._track(self.pg_cpu, backends)
                self._track(self.app_cpu, server_pids(self.port))
                with_timeout = asyncio.ensure_future(stop.wait())
                await asyncio.wait({with_timeout}, timeout=1.0)
                with_timeout.cancel()

    def cpu(self, table: dict[int, tuple[float, float]]) -> float:
        return sum(last - first for first, last in table.values())


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100)[q - 1] * 1000


async def _level(
    base_url: str,
    database_url: str,
    port: int,
    shoppers: int,
    customers: list[Customer],
    pieces: list[Piece],
) -> dict[str, Any]:
    began = time.perf_counter()
    opens_at = began + WARM_UP
    recorder = Recorder(opens_at, opens_at + SECONDS)
    sampler = Sampler(database_url, port)
    stop = asyncio.Event()
    sampling = asyncio.ensure_future(sampler.run(stop))
    await asyncio.sleep(0)
    gen_before = resource.getrusage(resource.RUSAGE_SELF)
    tasks = [
        _shopper(i, base_url, customers[i % len(customers)], pieces, recorder, opens_at + SECONDS)
        for i in range(shoppers)
    ]
    await asyncio.gather(*tasks)
    stop.set()
    await sampling
    gen_after = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = time.perf_counter() - began
    generator = (gen_after.ru_utime - gen_before.ru_utime) + (
        gen_after.ru_stime - gen_before.ru_stime
    )
    rows = []
    every: list[float] = []
    for name, latencies in sorted(recorder.latencies.items()):
        every += latencies
        rows.append(
            {
                "endpoint": name,
                "requests": len(latencies),
                "rps": round(len(latencies) / SECONDS, 1),
                "p50_ms": round(_pct(latencies, 50), 1),
                "p95_ms": round(_pct(latencies, 95), 1),
                "p99_ms": round(_pct(latencies, 99), 1),
                "errors": recorder.errors.get(name, 0),
                "error_statuses": recorder.statuses.get(name, {}),
            }
        )
    totals, busy = zip(*sampler.connections, strict=True) if sampler.connections else ((0,), (0,))
    return {
        "shoppers": shoppers,
        "think_mean_s": THINK,
        "measured_s": SECONDS,
        "offered_rps": round(shoppers / THINK * _requests_per_action(), 1),
        "achieved_rps": round(len(every) / SECONDS, 1),
        "p50_ms": round(_pct(every, 50), 1),
        "p95_ms": round(_pct(every, 95), 1),
        "p99_ms": round(_pct(every, 99), 1),
        "errors": sum(recorder.errors.values()),
        "endpoints": rows,
        "db_connections_max": max(totals),
        "db_connections_mean": round(statistics.mean(totals), 1),
        "db_busy_max": max(busy),
        "db_busy_mean": round(statistics.mean(busy), 1),
        "cpu_cores": {
            "app": round(sampler.cpu(sampler.app_cpu) / elapsed, 2),
            "postgresql": round(sampler.cpu(sampler.pg_cpu) / elapsed, 2),
            "generator": round(generator / elapsed, 2),
        },
        "holds_goal": all(r["p95_ms"] < GOAL_P95_MS for r in rows)
        and sum(recorder.errors.values()) == 0,
    }


def _requests_per_action() -> float:
    per = {"browse": 1, "search": 1, "product": 2, "track": 2, "cart": 1, "buy": 2}
    return sum(per[name] * weight for name, weight in MIX) / sum(w for _, w in MIX)


def _print(result: dict[str, Any]) -> None:
    print(
        f"\n{result['shoppers']} shoppers, think {THINK:g} s, {SECONDS:g} s measured: "
        f"offered {result['offered_rps']} req/s, achieved {result['achieved_rps']} req/s, "
        f"errors {result['errors']}, p95 all {result['p95_ms']} ms"
        f" -> {'HOLDS' if result['holds_goal'] else 'MISSES'} p95 < {GOAL_P95_MS:g} ms"
    )
    print(f"{'endpoint':<18}{'req':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  errors")
    for row in result["endpoints"]:
        errors = f"{row['errors']}" + (f" {row['error_statuses']}" if row["errors"] else "")
        print(
            f"{row['endpoint']:<18}{row['requests']:>7}{row['rps']:>8}{row['p50_ms']:>9}"
            f"{row['p95_ms']:>9}{row['p99_ms']:>9}  {errors}"
        )
    cpu = result["cpu_cores"]
    print(
        f"database connections: max {result['db_connections_max']} "
        f"(mean {result['db_connections_mean']}), not idle: max {result['db_busy_max']} "
        f"(mean {result['db_busy_mean']})"
    )
    print(
        f"CPU (cores of 2): app {cpu['app']}, PostgreSQL backends {cpu['postgresql']}, "
        f"load generator {cpu['generator']}"
    )


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    results = []
    with scratch_database() as url:
        pieces = asyncio.run(_stock_catalogue(url))
        customers = asyncio.run(_customers(url, max(LEVELS)))
        with running_server(url, workers=2, env=redis_env()) as server:
            port = int(server.base_url.rsplit(":", 1)[1])
            for shoppers in LEVELS:
                result = asyncio.run(
                    _level(server.base_url, url, port, shoppers, customers, pieces)
                )
                _print(result)
                results.append(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "levels": results}
    (RESULTS / "shoppers.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
