"""Helpers for tests that run background jobs: in-process workers and settings overrides."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from elysium.config import get_settings
from elysium.jobs import dispose_job_engine, open_job_app
from peers.http_server import QuietHandler, serving

TEST_QUEUES = ["default", "email", "analytics", "payments"]  # periodic housekeeping is left out
RUN_LIMIT_SECONDS = 60


async def run_jobs(*, workers: int = 1, concurrency: int = 1) -> list[str]:
    """Run `workers` in-process workers (sharing one pool) until the queues are empty;
    returns the worker names. Concurrency 1 lets an immediate retry run before exit."""
    names = [f"test-worker-{i}" for i in range(workers)]
    try:
        async with open_job_app() as job_app:
            runs = [
                job_app.run_worker_async(
                    wait=False,
                    name=name,
                    concurrency=concurrency,
                    queues=TEST_QUEUES,
                    install_signal_handlers=False,
                    listen_notify=False,
                )
                for name in names
            ]
            async with asyncio.timeout(RUN_LIMIT_SECONDS):
                await asyncio.gather(*runs)
    finally:
        await dispose_job_engine()
    return names


@contextmanager
def settings_env(**values: str) -> Iterator[None]:
    """Environment overrides seen by `get_settings()` (which job bodies read) for a block."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def resend_env(url: str, **overrides: str) -> dict[str, str]:
    """Settings that send email through a Resend-compatible API at `url`."""
    return {
        "EMAIL_BACKEND": "resend",
        "RESEND_API_KEY": "re_test",
        "RESEND_API_BASE": url,
    } | overrides


async def jobs_by_task(engine: AsyncEngine, task_name: str) -> list[dict[str, Any]]:
    """The procrastinate jobs of one task: id, status, attempts, args."""
    sql = text(
        "SELECT id, status::text AS status, attempts, args FROM procrastinate_jobs "
        "WHERE task_name = :task ORDER BY id"
    )
    async with engine.connect() as conn:
        return [dict(row) for row in (await conn.execute(sql, {"task": task_name})).mappings()]


@dataclass
class Recorded:
    """What a local HTTP peer received."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpPeer:
    """A local HTTP server answering from `reply(request_number)`; it records every request."""

    reply: Callable[[int], tuple[int, bytes]]
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""


@contextmanager
def http_peer(reply: Callable[[int], tuple[int, bytes]]) -> Iterator[HttpPeer]:
    """Serve `reply` on 127.0.0.1 in a thread for the block."""
    peer = HttpPeer(reply)

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            peer.requests.append(Recorded(self.path, dict(self.headers.items()), body))
            self.reply(*peer.reply(len(peer.requests)))

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        peer.url = url
        yield peer
