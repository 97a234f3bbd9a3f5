"""Server CPU per checkout: a steadier figure than throughput for small before/after changes.

Runs the checkout bench's own set-up (customers with a full cart, two web workers), warms up
with 100 checkouts, then reads the web workers' utime+stime from /proc around 1,000 checkouts
at 8 customers. Run it on each commit, interleaved (with TEST_DATABASE_URL set, or an
embedded cluster): `.venv/bin/python bench/checkout_cpu.py`
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_checkout
from harness import running_server, scratch_database

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
MEASURED, WARM_UP = 1000, 100


def server_cpu_seconds(database_url: str) -> float:
    """utime+stime of every process started with this DATABASE_URL (the server's workers)."""
    ticks = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if f"DATABASE_URL={database_url}".encode() not in (proc / "environ").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / TICKS_PER_SECOND


def main() -> None:
    with scratch_database() as url:
        pieces = asyncio.run(bench_checkout._stock_catalogue(url))
        customers = asyncio.run(bench_checkout._customers(url, MEASURED + WARM_UP))
        with running_server(url, workers=2) as server:
            asyncio.run(bench_checkout._fill_carts(server.base_url, customers, pieces))
            asyncio.run(bench_checkout._level(server.base_url, customers[:WARM_UP], 8))
            before = server_cpu_seconds(url)
            result = asyncio.run(bench_checkout._level(server.base_url, customers[WARM_UP:], 8))
            used = server_cpu_seconds(url) - before
    print(
        f"server CPU per checkout: {1000 * used / MEASURED:.2f} ms ({result.rps:.0f} checkouts/s)"
    )


if __name__ == "__main__":
    main()
