"""Job queue throughput and email latency with real worker processes on a scratch database.

1. Throughput: 1,000 order-confirmation emails are queued while no worker runs, then one (and,
   on a fresh backlog, two) `elysium worker` processes drain them; jobs/s is measured between
   the first and the last email's `sent_at`.
2. Latency: with two workers running, 20 orders one at a time (an idle queue), then a burst
   of 1,000 orders, each committing its own transaction (8 at a time); the delay is
   commit -> `.eml` file written (its mtime).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from harness import RESULTS, ROOT, scratch_database
from sqlalchemy import text

EMAILS = 1000
BURST_CONCURRENCY = 8
IDLE_ORDERS = 20
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Mount Street",
    "city": "London",
    "postal_code": "W1K 2RD",
    "country": "GB",
}


def order_context(n: int) -> dict[str, Any]:
    return {
        "customer_name": "Ada Lovelace",
        "order_number": f"ELY-2026-{n:06d}",
        "currency": "GBP",
        "lines": [
            {
                "title": "Aurora Solitaire",
                "configuration": {"metal": "platinum", "ring_size": "L"},
                "quantity": 1,
                "unit_price": 450000,
                "line_total": 450000,
            }
        ],
        "subtotal": 450000,
        "discount": 0,
        "shipping": 0,
        "vat": 75000,
        "total": 450000,
        "delivery_address": ADDRESS,
        "order_url": f"https://elysium.example/account/orders/{n}",
    }


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    argv = [sys.executable, "-m", "elysium.cli", "worker", "--concurrency", "4"]
    return [subprocess.Popen(argv, env=env, cwd=ROOT) for _ in range(count)]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for proc in workers:
        proc.terminate()
    for proc in workers:
        proc.wait(timeout=60)


async def queue_backlog(maker: Any, prefix: str) -> None:
    from elysium.notifications.emails import send_email

    async with maker() as session, session.begin():
        for n in range(EMAILS):
            await send_email(
                session,
                to=f"client{n}@example.com",
                template="order_confirmation",
                context=order_context(n),
                idempotency_key=f"{prefix}:{n}",
            )


async def wait_all_sent(engine: Any, prefix: str, limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    sql = text(
        "SELECT count(*) FROM sent_emails WHERE idempotency_key LIKE :p AND status <> 'sent'"
    )
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            if (await conn.scalar(sql, {"p": f"{prefix}:%"})) == 0:
                return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{prefix}: emails still unsent")


async def wait_workers_registered(engine: Any, count: int) -> None:
    sql = text("SELECT count(*) FROM procrastinate_workers")
    for _ in range(600):
        async with engine.connect() as conn:
            if (await conn.scalar(sql)) >= count:
                await asyncio.sleep(1)  # LISTEN set up right after registering
                return
        await asyncio.sleep(0.1)
    raise TimeoutError("workers did not start")


async def throughput(engine: Any, maker: Any, env: dict[str, str], workers: int) -> float:
    prefix = f"backlog{workers}"
    await queue_backlog(maker, prefix)
    procs = start_workers(workers, env)
    try:
        await wait_all_sent(engine, prefix)
    finally:
        stop_workers(procs)
    sql = text(
        "SELECT extract(epoch FROM max(sent_at) - min(sent_at)) FROM sent_emails "
        "WHERE idempotency_key LIKE :p"
    )
    async with engine.connect() as conn:
        seconds = float(await conn.scalar(sql, {"p": f"{prefix}:%"}))
    return (EMAILS - 1) / seconds


async def burst_latency(
    engine: Any, maker: Any, env: dict[str, str], outbox: Path
) -> tuple[list[float], list[float]]:
    from elysium.notifications.emails import send_email

    committed: dict[str, float] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(EMAILS):
        queue.put_nowait(n)

    async def client() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            key = f"burst:{n}"
            async with maker() as session, session.begin():
                await send_email(
                    session,
                    to=f"client{n}@example.com",
                    template="order_confirmation",
                    context=order_context(n),
                    idempotency_key=key,
                )
            committed[key] = time.time()

    async def one_at_a_time() -> None:
        for n in range(IDLE_ORDERS):
            key = f"idle:{n}"
            async with maker() as session, session.begin():
                await send_email(
                    session,
                    to=f"idle{n}@example.com",
                    template="order_confirmation",
                    context=order_context(n),
                    idempotency_key=key,
                )
            idle[key] = time.time()
            await asyncio.sleep(0.3)

    idle: dict[str, float] = {}
    procs = start_workers(2, env)
    try:
        await wait_workers_registered(engine, 2)
        await one_at_a_time()
        await asyncio.gather(*(client() for _ in range(BURST_CONCURRENCY)))
        await wait_all_sent(engine, "burst")
    finally:
        stop_workers(procs)
    written = written_times(outbox, set(committed) | set(idle))
    burst = [written[key] - committed[key] for key in committed]
    return burst, [written[key] - idle[key] for key in idle]


def written_times(outbox: Path, keys: set[str]) -> dict[str, float]:
    """When each email of `keys` was written: its .eml file's mtime, by idempotency key."""
    written = {}
    for path in outbox.glob("*.eml"):
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        key = parsed["X-Elysium-Idempotency-Key"]
        if key in keys:
            written[key] = path.stat().st_mtime
    return written


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(sorted(values), n=100)[q - 1]


async def run(url: str, outbox: Path) -> dict[str, Any]:
    env = os.environ | {
        "DATABASE_URL": url,
        "EMAIL_BACKEND": "outbox",
        "EMAIL_OUTBOX_DIR": str(outbox),
        "LOG_LEVEL": "WARNING",
        "ENVIRONMENT": "development",
    }
    os.environ.update(
        {k: env[k] for k in ("DATABASE_URL", "EMAIL_BACKEND", "EMAIL_OUTBOX_DIR", "LOG_LEVEL")}
    )
    from elysium.config import get_settings
    from elysium.db import create_engine, create_sessionmaker

    get_settings.cache_clear()
    engine = create_engine(get_settings(), url)
    maker = create_sessionmaker(engine)
    try:
        one = await throughput(engine, maker, env, 1)
        two = await throughput(engine, maker, env, 2)
        delays, idle = await burst_latency(engine, maker, env, outbox)
    finally:
        await engine.dispose()
    return {
        "jobs_per_second_1_worker": round(one, 1),
        "jobs_per_second_2_workers": round(two, 1),
        "burst_emails": len(delays),
        "commit_to_written_p50_ms": round(percentile(delays, 50) * 1000, 1),
        "commit_to_written_p95_ms": round(percentile(delays, 95) * 1000, 1),
        "commit_to_written_max_ms": round(max(delays) * 1000, 1),
        "idle_queue_commit_to_written_p50_ms": round(percentile(idle, 50) * 1000, 1),
        "idle_queue_commit_to_written_p95_ms": round(percentile(idle, 95) * 1000, 1),
    }


def main() -> None:
    with scratch_database() as url, tempfile.TemporaryDirectory(prefix="elysium-outbox-") as folder:
        figures = asyncio.run(run(url, Path(folder)))
    for name, value in figures.items():
        print(f"{name:<32} {value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": figures}
    (RESULTS / "jobs.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
