"""Shared benchmark harness: a real server (gunicorn, uvicorn workers) on a scratch database,
and an async load generator that reports requests/s and latency percentiles.

The load generator runs in this process, on the same 2-core machine as the server, so figures
are conservative: the client competes with the server for CPU.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from elysium.catalog.pricing import ProductSpec
from elysium.migrate import upgrade_to_head
from elysium.scratch_db import scratch_database as _scratch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


@dataclass
class Server:
    base_url: str
    database_url: str


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    def line(self) -> str:
        return (
            f"{self.name:<40} c={self.concurrency:<3} {self.rps:8.1f} req/s  "
            f"p50 {self.p50_ms:6.1f} ms  p95 {self.p95_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms  "
            f"errors {self.errors}/{self.requests}"
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def scratch_database() -> Iterator[str]:
    """A freshly migrated scratch database (see elysium.scratch_db)."""
    with _scratch("elysium_bench") as url:
        upgrade_to_head(url)
        yield url


@contextmanager
def running_server(
    database_url: str, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """gunicorn with `workers` uvicorn workers on a free port, stopped on exit."""
    port = _free_port()
    child_env = (
        os.environ
        | {
            "DATABASE_URL": database_url,
            "ACCESS_LOG": "false",
            "LOG_LEVEL": "WARNING",
            "COOKIE_SECURE": "false",
            "ENVIRONMENT": "development",
            # Every simulated client comes from 127.0.0.1: the per-address limits are lifted (they
            # are still checked and counted, so their cost is measured), per-account ones kept.
            "ANONYMOUS_WRITES_PER_MINUTE": "1000000",
            "LOGIN_MAX_FAILURES_PER_IP": "1000000",
            "ACCOUNT_REQUESTS_PER_HOUR": "1000000",
            "COUPON_ATTEMPTS_PER_HOUR": "1000000",
            "ENQUIRIES_PER_HOUR": "1000000",
            "ACCOUNT_WRITES_PER_MINUTE": "1000000",  # a few accounts stand for many clients
        }
        | (env or {})
    )
    argv = [
        sys.executable,
        "-m",
        "elysium.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(argv, env=child_env, cwd=ROOT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url, proc)
        yield Server(base_url=base_url, database_url=database_url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def redis_env() -> dict[str, str]:
    """Rate limits in Redis when one answers on 6379 (what a multi-process deployment uses)."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return {}
    return {"REDIS_URL": "redis://127.0.0.1:6379/0"}


def _wait_ready(base_url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


RequestFn = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def load(
    name: str,
    base_url: str,
    request: RequestFn,
    concurrency: int,
    duration: float = 10.0,
    total: int | None = None,
    ok: Callable[[httpx.Response], bool] = lambda r: r.status_code < 400,
) -> Result:
    """Run `request(client, i)` from `concurrency` clients for `duration` s (or `total` calls)."""
    latencies: list[float] = []
    errors = 0
    counter = 0
    stop_at = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors, counter
        while True:
            if total is not None and counter >= total:
                return
            if total is None and time.perf_counter() >= stop_at:
                return
            i = counter
            counter += 1
            started = time.perf_counter()
            try:
                response = await request(client, i)
                good = ok(response)
            except httpx.HTTPError:
                good = False
            latencies.append(time.perf_counter() - started)
            errors += 0 if good else 1

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return summarise(name, concurrency, latencies, errors, elapsed)


def summarise(
    name: str,
    concurrency: int,
    latencies: list[float],
    errors: int,
    elapsed: float,
    *,
    successes_only: bool = False,
) -> Result:
    """A Result from raw latencies (seconds); requests/s counts every request, or only the
    successful ones with `successes_only`."""
    counted = len(latencies) - (errors if successes_only else 0)
    ordered = sorted(latencies) or [0.0]
    q = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else [ordered[0]] * 99
    return Result(
        name=name,
        concurrency=concurrency,
        requests=len(latencies),
        errors=errors,
        seconds=round(elapsed, 2),
        rps=round(counted / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(q[49] * 1000, 1),
        p95_ms=round(q[94] * 1000, 1),
        p99_ms=round(q[98] * 1000, 1),
    )


def save(results: list[Result], file_name: str) -> None:
    """Print each result and write them to bench/results/<file_name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for result in results:
        print(result.line())
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": [asdict(r) for r in results],
    }
    (RESULTS / f"{file_name}.json").write_text(json.dumps(payload, indent=2))


@dataclass(frozen=True)
class Req:
    """One request of a fixed list that a load cycles through."""

    method: str
    path: str
    headers: dict[str, str] | None = None
    body: str | None = None


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _wrk_script(requests: list[Req]) -> str:
    entries = []
    for req in requests:
        headers = req.headers or {}
        if req.body is not None:
            headers = {"Content-Type": "application/json", **headers}
        header_lua = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
        body_lua = "nil" if req.body is None else _lua_string(req.body)
        entries.append(
            f"{{method={_lua_string(req.method)}, path={_lua_string(req.path)}, "
            f"headers={{{header_lua}}}, body={body_lua}}}"
        )
    return (
        "local reqs = {" + ",\n".join(entries) + "}\n"
        "local i = math.random(0, #reqs - 1)\n"
        "request = function()\n  i = (i % #reqs) + 1\n  local r = reqs[i]\n"
        "  return wrk.format(r.method, r.path, r.headers, r.body)\nend\n"
        "done = function(summary, latency, requests)\n"
        "  local errors = summary.errors.status + summary.errors.connect + summary.errors.read"
        " + summary.errors.write + summary.errors.timeout\n"
        '  io.write(string.format("WRK %d %d %f %f %f %f\\n", summary.requests, errors,'
        " summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,"
        " latency:percentile(99) / 1e3))\nend\n"
    )


def _run_wrk(
    name: str, base_url: str, requests: list[Req], concurrency: int, duration: float
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(requests))
    argv = ["wrk", "-t2", f"-c{concurrency}", f"-d{int(duration)}s", "-s", script.name, base_url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    line = next(row for row in out.splitlines() if row.startswith("WRK "))
    total, errors, seconds, p50, p95, p99 = (float(x) for x in line.split()[1:])
    return Result(
        name=name,
        concurrency=concurrency,
        requests=int(total),
        errors=int(errors),
        seconds=round(seconds, 2),
        rps=round(total / seconds, 1),
        p50_ms=round(p50, 1),
        p95_ms=round(p95, 1),
        p99_ms=round(p99, 1),
    )


async def load_requests(
    name: str, base_url: str, requests: list[Req], concurrency: int, duration: float = 10.0
) -> Result:
    """Cycle through `requests` with wrk (a C load generator) when installed, else with httpx."""
    if shutil.which("wrk"):
        return await asyncio.to_thread(_run_wrk, name, base_url, requests, concurrency, duration)

    async def send(client: httpx.AsyncClient, i: int) -> httpx.Response:
        req = requests[i % len(requests)]
        headers = (req.headers or {}) | ({"Content-Type": "application/json"} if req.body else {})
        return await client.request(req.method, req.path, headers=headers, content=req.body)

    return await load(name, base_url, send, concurrency, duration=duration)


class KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive client for JSON APIs: one connection, one request at a time.

    httpx costs a few milliseconds of CPU per request, which on this 2-core machine is taken
    from the server being measured; this costs a few tens of microseconds. It understands
    what the API sends: a status line, headers and a Content-Length body.
    """

    def __init__(self, base_url: str) -> None:
        host, _, port = base_url.removeprefix("http://").partition(":")
        self._host, self._port = host, int(port or 80)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> KeepAliveClient:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: object = None
    ) -> tuple[int, bytes]:
        """Send one request; returns the status code and the body."""
        assert self._reader is not None
        assert self._writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}:{self._port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return int(status_line.split()[1]), await self._reader.readexactly(length)


async def stock_demo_catalogue(database_url: str, level: int) -> list[ProductSpec]:
    """Load the demo catalogue and give every variant `level` units; returns the specs."""
    from sqlalchemy import select

    from elysium.catalog.pricing import variant_keys_for
    from elysium.catalog.service import product_spec
    from elysium.config import get_settings
    from elysium.db import create_engine, create_sessionmaker
    from elysium.demo import load_demo_into
    from elysium.inventory.importer import import_stock_csv
    from elysium.models import Product

    await load_demo_into(database_url, only_if_empty=False)
    engine = create_engine(get_settings(), database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        specs = [product_spec(p) for p in (await session.scalars(select(Product))).all()]
        rows = [
            {"product_slug": spec.slug, "variant_key": key, "stock_level": str(level)}
            for spec in specs
            for key in variant_keys_for(spec)
        ]
        await import_stock_csv(session, rows)
    await engine.dispose()
    return specs


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def server_pids(port: int | str) -> list[int]:
    """The processes started to serve 127.0.0.1:`port` (the server and its workers)."""
    needle = f"127.0.0.1:{port}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if needle in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids
