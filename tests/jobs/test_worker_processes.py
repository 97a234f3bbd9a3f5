"""Two real `elysium worker` processes on one database: both take jobs, each job runs once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from elysium.config import Settings
from elysium.models import SentEmail
from elysium.notifications.emails import send_email
from factories import WELCOME_CONTEXT

pytestmark = pytest.mark.slow  # two real `elysium worker` processes

EMAILS = 40


async def _queue_emails(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        for n in range(EMAILS):
            await send_email(
                session,
                to=f"client{n}@example.com",
                template="welcome",
                context=WELCOME_CONTEXT | {"customer_name": f"Client {n}"},
                idempotency_key=f"multi-worker-{n}",
            )


async def _wait_all_sent(app: FastAPI, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with app.state.sessionmaker() as session:
            sent = await session.scalar(
                select(func.count()).select_from(SentEmail).where(SentEmail.status == "sent")
            )
        if sent == EMAILS:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"only {sent} of {EMAILS} emails were sent")


def _start_workers(database_url: str, outbox: Path, count: int) -> list[subprocess.Popen[bytes]]:
    env = os.environ | {"DATABASE_URL": database_url, "EMAIL_OUTBOX_DIR": str(outbox)}
    argv = [sys.executable, "-m", "elysium.cli", "worker", "--concurrency", "4"]
    argv += ["--queue", "email", "--queue", "default"]
    return [subprocess.Popen(argv, env=env) for _ in range(count)]


async def _last_worker_id(app: FastAPI) -> int:
    async with app.state.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT max(id) FROM procrastinate_workers")) or 0)


async def _wait_workers_registered(
    app: FastAPI, after_id: int, count: int, within: float = 60
) -> None:
    query = text("SELECT count(*) FROM procrastinate_workers WHERE id > :after")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with app.state.engine.connect() as conn:
            running = await conn.scalar(query, {"after": after_id})
        if running == count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{running} of {count} workers registered")


async def _workers_that_sent(app: FastAPI) -> int:
    """How many worker processes ran the email jobs (read while they still run: procrastinate
    forgets a worker's id on its jobs when it stops)."""
    query = text("SELECT count(DISTINCT worker_id) FROM procrastinate_jobs WHERE task_name = :task")
    async with app.state.engine.connect() as conn:
        return int(await conn.scalar(query, {"task": "deliver_email"}) or 0)


def _written(outbox: Path) -> int:
    return len(list(outbox.glob("*.eml")))


async def test_two_worker_processes_send_every_email_once(
    app: FastAPI, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    before = await _last_worker_id(app)
    workers = _start_workers(database_url, tmp_path, count=2)
    try:
        await _wait_workers_registered(app, before, 2)
        await _queue_emails(app)
        await _wait_all_sent(app)
        assert await _workers_that_sent(app) == 2
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=30)
    async with app.state.sessionmaker() as session:
        attempts = list(await session.scalars(select(SentEmail.attempts)))
    assert attempts == [1] * EMAILS
    assert _written(tmp_path) == EMAILS
