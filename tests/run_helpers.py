"""`elysium run` as a real process, and shoppers that check out against it over HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from factories import HALF_CARAT, Shopper
from live_server import free_port


def start_elysium_run(
    database_url: str, folder: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `elysium run` (migrate, web server, worker, supervisor); wait until it answers."""
    port = free_port()
    child_env = (
        os.environ
        | {
            "DATABASE_URL": database_url,
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "DATA_DIR": str(folder),
            "EMAIL_OUTBOX_DIR": str(folder / "outbox"),
            "LOG_LEVEL": "WARNING",
            "WORKER_RECONNECT_MAX_SECONDS": "2",
        }
        | (env or {})
    )
    argv = [sys.executable, "-m", "elysium.cli", "run"]
    proc = subprocess.Popen(argv, env=child_env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"elysium run exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("elysium run did not start")


def stop(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM and wait (the supervisor stops its children gracefully)."""
    if proc.poll() is None:
        proc.terminate()
    return proc.wait(timeout=90)


@dataclass
class LoadResult:
    orders: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (token, total)
    statuses: dict[int, int] = field(default_factory=dict)
    refused: int = 0  # connection refused: the server was not listening (a clean refusal)
    # reset before any byte of an answer: a connection still in the listen backlog when the
    # server closed it on shutdown (never read, so never processed: stored orders prove it)
    reset: int = 0
    problems: list[str] = field(default_factory=list)  # anything unclean


async def shop_until(
    base: str,
    who: Shopper,
    slug: str,
    stop_at: asyncio.Event,
    result: LoadResult,
    *,
    retry: bool = True,
) -> None:
    """Add a line and check out, again and again, retrying the same Idempotency-Key after a
    503 or a refused connection; every answer is recorded. New connection per request, so
    a refusal is a refusal and not a reused connection closed under us."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        while not stop_at.is_set():
            key = str(uuid.uuid4())
            line = {"product_slug": slug, "configuration": HALF_CARAT, "quantity": 1}
            body = {"shipping_address_id": who.address_id, "billing_address_id": who.address_id}
            for _ in range(40 if retry else 1):
                try:
                    added = await http.post("/api/cart", json=line, headers=who.headers)
                    _note(result, added)
                    if added.status_code >= 500:
                        await asyncio.sleep(0.2)
                        continue
                    answer = await http.post(
                        "/api/checkout", json=body, headers=who.headers | {"Idempotency-Key": key}
                    )
                except httpx.ConnectError:
                    result.refused += 1
                    await asyncio.sleep(0.2)
                    continue
                except (httpx.ReadError, httpx.RemoteProtocolError):
                    result.reset += 1
                    await asyncio.sleep(0.2)
                    continue
                except httpx.HTTPError as exc:
                    result.problems.append(f"{type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.2)
                    continue
                _note(result, answer)
                if answer.status_code == 201:
                    order = answer.json()["order"]
                    result.orders[order["id"]] = (who.account.token, order["total"]["amount"])
                    break
                if answer.status_code != 503:
                    break
                await asyncio.sleep(0.2)


def _note(result: LoadResult, response: httpx.Response) -> None:
    status = response.status_code
    result.statuses[status] = result.statuses.get(status, 0) + 1
    if status >= 500 and status != 503:
        result.problems.append(f"{status}: {response.text[:300]}")
    if status == 503:
        if "retry-after" not in response.headers:
            result.problems.append("503 without Retry-After")
        if response.headers.get("content-type") != "application/problem+json":
            result.problems.append("503 not problem+json")


async def orders_intact(base: str, result: LoadResult) -> list[str]:
    """Every order answered 201 reads back with the same total; the mismatches."""
    wrong = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for order_id, (token, total) in result.orders.items():
            response = await http.get(
                f"/api/orders/{order_id}", headers={"Authorization": f"Bearer {token}"}
            )
            if response.status_code != 200 or response.json()["total"]["amount"] != total:
                wrong.append(f"{order_id}: {response.status_code}")
    return wrong
