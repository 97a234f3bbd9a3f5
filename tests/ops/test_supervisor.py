"""The `elysium run` supervisor starts again a child that dies, gives up only on a
configuration error; `elysium serve`/`worker` exit non-zero only for one; `elysium run` never
loads the demo catalogue in production."""

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

from elysium.kit.supervisor import CONFIG_ERROR
from elysium.models import Product
from live_server import free_port, run_elysium

pytestmark = pytest.mark.slow  # real processes

SUPERVISE = """
import sys
from elysium.kit.supervisor import Child, supervise
child = Child("flaky", [sys.executable, "-c", sys.argv[1]])
sys.exit(supervise([child], poll_seconds=0.05))
"""


def _supervised(child_code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", SUPERVISE, child_code])


def test_a_child_that_dies_is_started_again(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    code = f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(1)"
    proc = _supervised(code)
    deadline = time.monotonic() + 30
    while not (starts.exists() and len(starts.read_text()) >= 3):  # backoff 1 s, then 2 s
        assert time.monotonic() < deadline, "the child was not started again"
        assert proc.poll() is None
        time.sleep(0.1)
    proc.terminate()
    assert proc.wait(timeout=30) == 0


def test_a_configuration_error_is_not_retried() -> None:
    proc = _supervised(f"raise SystemExit({CONFIG_ERROR})")
    assert proc.wait(timeout=30) == CONFIG_ERROR


async def test_worker_and_serve_exit_78_on_a_configuration_error(database_url: str) -> None:
    os.environ["ATELIER_TIMEZONE"] = "Mars/Olympus_Mons"
    try:
        for command in ("worker", "serve"):
            code, _, err = await run_elysium(database_url, command)
            assert code == CONFIG_ERROR, err
            assert "configuration error" in err
    finally:
        del os.environ["ATELIER_TIMEZONE"]


async def test_run_loads_no_demo_catalogue_in_production(
    app: FastAPI, database_url: str, tmp_path: Path
) -> None:
    env = os.environ | {
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "production",
        "SECRET_KEY": "a-real-secret-for-the-test-0123456789",
        "DATA_DIR": str(tmp_path),
        "PORT": str(free_port()),
    }
    proc = _start_run(env)
    try:
        # the worker registers once `run` has migrated and made its demo decision
        await _wait_worker_registered(app)
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 60)
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Product)) == 0


def _start_run(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "elysium.cli", "run"], env=env)


async def _wait_worker_registered(app: FastAPI, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with app.state.engine.connect() as conn:
            if await conn.scalar(text("SELECT count(*) FROM procrastinate_workers")):
                return
        await asyncio.sleep(0.3)
    raise AssertionError("the worker never started")


SLOW_SERVER = """
import http.server, sys, time
time.sleep(1.5)
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
"""

READY = """
import sys
from elysium.kit.supervisor import Child, supervise
child = Child("server", [sys.executable, "-c", sys.argv[1], sys.argv[2]])
sys.exit(supervise([child], ready_url=f"http://127.0.0.1:{sys.argv[2]}/", ready_message="READY"))
"""


def test_ready_is_printed_only_once_the_server_answers() -> None:
    port = str(free_port())
    started = time.monotonic()
    argv = [sys.executable, "-c", READY, SLOW_SERVER, port]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY"
        assert time.monotonic() - started >= 1.5  # not before the server could answer
    finally:
        proc.terminate()
        proc.wait(timeout=30)
