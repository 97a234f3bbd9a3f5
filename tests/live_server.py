"""Real processes for tests: the app served by uvicorn, and the `elysium` command."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx

from elysium.migrate import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_live_server(
    database_url: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the app on 127.0.0.1 and wait until /health/ready answers; (process, base URL)."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "elysium.app:create_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    child_env = os.environ | {"DATABASE_URL": database_url} | (env or {})
    proc = subprocess.Popen(argv, env=child_env, cwd=PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the live server did not start")


async def run_elysium(database_url: str, *args: str) -> tuple[int, str, str]:
    """Run the real `elysium` command against `database_url`; (exit code, stdout, stderr)."""
    env = os.environ | {"DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "elysium.cli", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
