"""Metrics beyond HTTP (queue depth, job failures, pool, checkouts, payments, emails, replica
lag), the worker's own metrics port, and /metrics kept from the public."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import SecretStr

from elysium.config import Settings
from elysium.db import create_engine, refresh_pool_metrics
from elysium.kit.metrics import DB_POOL_WAITING, REPLICA_LAG
from factories import Account, placed_order, queue_welcome, shopper, stocked_piece
from job_helpers import run_jobs, settings_env
from live_server import free_port


def _value(text: str, name: str, **labels: str) -> float:
    """One sample's value from the exposition text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(f"{name}{{{wanted}}}" if labels else name) + r" (\S+)$"
    found = re.search("^" + pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


async def _metrics(client: AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture
def swap_settings(app: FastAPI, settings: Settings) -> Iterator[dict[str, object]]:
    changes: dict[str, object] = {}
    yield changes
    app.state.settings = settings


def _apply(app: FastAPI, settings: Settings, **changes: object) -> None:
    app.state.settings = settings.model_copy(update=changes)


async def test_metrics_token_is_required_when_set(
    app: FastAPI, settings: Settings, client: AsyncClient, swap_settings: dict[str, object]
) -> None:
    _apply(app, settings, metrics_token=SecretStr("scrape-me"))
    assert (await client.get("/metrics")).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.get("/metrics", headers=wrong)).status_code == 401
    right = {"Authorization": "Bearer scrape-me"}
    assert (await client.get("/metrics", headers=right)).status_code == 200


async def test_production_without_a_token_does_not_serve_metrics(
    app: FastAPI, settings: Settings, client: AsyncClient, swap_settings: dict[str, object]
) -> None:
    _apply(app, settings, environment="production")
    assert (await client.get("/metrics")).status_code == 404
    _apply(app, settings, environment="production", metrics_token=SecretStr("t"))
    ok = await client.get("/metrics", headers={"Authorization": "Bearer t"})
    assert ok.status_code == 200


async def test_queue_depth_job_failures_and_emails(app: FastAPI, client: AsyncClient) -> None:
    for n in range(3):
        await queue_welcome(app, f"depth{n}@example.com")
    text = await _metrics(client)
    assert _value(text, "elysium_job_queue_depth", queue="email", status="todo") == 3

    failed_before = _value(text, "elysium_jobs_failed_total", task="deliver_email")
    smtp_failed = _value(text, "elysium_emails_total", backend="smtp", outcome="failed")
    with settings_env(EMAIL_BACKEND="smtp", SMTP_PORT=str(free_port()), SMTP_STARTTLS="false"):
        await run_jobs()
    text = await _metrics(client)
    assert _value(text, "elysium_jobs_failed_total", task="deliver_email") == failed_before + 3
    assert _value(text, "elysium_emails_total", backend="smtp", outcome="failed") == (
        smtp_failed + 3
    )

    sent_before = _value(text, "elysium_emails_total", backend="outbox", outcome="sent")
    await queue_welcome(app, "sent@example.com")
    await run_jobs()
    text = await _metrics(client)
    assert _value(text, "elysium_emails_total", backend="outbox", outcome="sent") == (
        sent_before + 1
    )


async def test_checkouts_and_payments_are_counted(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    text = await _metrics(client)
    checkouts = _value(text, "elysium_checkouts_total", provider="bank_transfer")
    paid = _value(text, "elysium_payments_total", provider="bank_transfer", outcome="succeeded")
    order = await placed_order(client, await shopper(app, client, await stocked_piece(app)))
    confirmed = await client.put(
        f"/api/orders/{order['id']}/status",
        json={"status": "PAID", "note": "Transfer seen"},
        headers=staff.headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    text = await _metrics(client)
    assert _value(text, "elysium_checkouts_total", provider="bank_transfer") == checkouts + 1
    assert _value(
        text, "elysium_payments_total", provider="bank_transfer", outcome="succeeded"
    ) == (paid + 1)


async def test_pool_in_use_and_waiting(
    app: FastAPI, settings: Settings, client: AsyncClient
) -> None:
    idle = _value(await _metrics(client), "elysium_db_pool_in_use")
    async with app.state.engine.connect():
        held = _value(await _metrics(client), "elysium_db_pool_in_use")
    assert held == idle + 1

    tiny = create_engine(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    try:
        async with tiny.connect():
            waiter = asyncio.create_task(_use(tiny))
            await asyncio.sleep(0.2)
            refresh_pool_metrics(tiny)
            assert DB_POOL_WAITING._value.get() == 1  # one request waits for a connection
        await waiter
        refresh_pool_metrics(tiny)
        assert DB_POOL_WAITING._value.get() == 0
    finally:
        await tiny.dispose()


async def _use(engine: object) -> None:
    async with engine.connect():  # type: ignore[attr-defined]
        pass


async def test_replica_lag_gauge_is_exported(client: AsyncClient) -> None:
    REPLICA_LAG.set(1.5)  # what the replica router sets from pg_last_xact_replay_timestamp()
    assert _value(await _metrics(client), "elysium_replica_lag_seconds") == 1.5
    REPLICA_LAG.set(0)


@pytest.mark.slow  # a real `elysium worker`
async def test_the_worker_serves_its_own_metrics(app: FastAPI, database_url: str) -> None:
    await queue_welcome(app, "waiting@example.com")  # on the email queue, not served below
    port = free_port()
    worker = _start_worker(database_url, port)
    wanted = 'elysium_job_queue_depth{queue="email",status="todo"} 1.0'
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while True:
                try:
                    text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                    if wanted in text:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "no queue depth from the worker"
                await asyncio.sleep(0.3)
    finally:
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 60) == 0


def _start_worker(database_url: str, metrics_port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"DATABASE_URL": database_url, "WORKER_METRICS_PORT": str(metrics_port)}
    argv = [sys.executable, "-m", "elysium.cli", "worker", "--queue", "maintenance"]
    return subprocess.Popen(argv, env=env)
