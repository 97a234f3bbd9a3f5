"""Schemathesis fuzzes every operation in /openapi.json against a real server: no 5xx, ever."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from elysium.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(settings: Settings, database_url: str) -> Iterator[str]:
    port = _free_port()
    env = os.environ | {"DATABASE_URL": database_url, "ANONYMOUS_WRITES_PER_MINUTE": "100000"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "elysium.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _customer_token(base: str) -> str:
    body = {"email": "fuzz@example.com", "password": "velvet-sapphire-2026"}
    httpx.post(f"{base}/api/auth/register", json=body, timeout=10)
    return str(httpx.post(f"{base}/api/auth/login", json=body, timeout=10).json()["token"])


@pytest.mark.slow
def test_no_operation_answers_5xx(live_server: str) -> None:
    token = _customer_token(live_server)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{live_server}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "25",
            "--seed",
            "20261122",
            "--exclude-path",
            "/api/auth/logout",
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " generated" in result.stdout
