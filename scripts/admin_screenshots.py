"""Screenshots of the back office for the README: dashboard, an order page, the inventory page.

Starts the app on a scratch database (TEST_DATABASE_URL's server, else an embedded cluster)
with the demo catalogue and stock, places a few orders through the public API as customers
would, moves them along as the atelier would (bank transfer confirmed, fulfilled, shipped),
then signs in to /admin with Playwright and Debian's Chromium and saves PNGs under
docs/screenshots/. Run it again after changing the back office:

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python scripts/admin_screenshots.py
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import async_playwright

from elysium.demo import DEMO_CATALOGUE, DEMO_STOCK, load_demo_into
from elysium.migrate import PROJECT_ROOT, upgrade_to_head
from elysium.scratch_db import scratch_database

OUT = PROJECT_ROOT / "docs" / "screenshots"
PASSWORD = "velvet-sapphire-2026"
ADMIN_EMAIL = "atelier.admin@elysium.example"
CLIENTS = [
    ("Ada Lovelace", "aurora-solitaire"),
    ("Grace Hopper", "vesper-diamond-studs"),
    ("Mary Somerville", "celeste-halo"),
    ("Caroline Herschel", "nova-pendant"),
    ("Emmy Noether", "orbit-hoops"),
]
ADDRESS = {"line1": "12 Albemarle Street", "city": "London", "postal_code": "W1S 4HW"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _configurations() -> dict[str, dict[str, str]]:
    """One in-stock configuration per demo product: its first stocked variant, and the first
    value of every other required option."""
    firsts: dict[str, dict[str, str]] = {}
    with DEMO_CATALOGUE.open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            if doc.get("_type") == "product":
                firsts[doc["slug"]["current"]] = {
                    o["name"]: o["values"][0]["value"] for o in doc.get("options", [])
                }
    chosen: dict[str, dict[str, str]] = {}
    with DEMO_STOCK.open(encoding="utf-8", newline="") as stock:
        for row in csv.DictReader(stock):
            slug = row["product_slug"]
            if slug in chosen or slug not in firsts or int(row["stock_level"]) < 1:
                continue
            key = row["variant_key"]
            pairs = [tuple(part.split("=", 1)) for part in key.split(";")] if "=" in key else []
            variant: dict[str, str] = dict(pairs)
            chosen[slug] = firsts[slug] | variant
    return chosen


def _start_server(database_url: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    argv = [sys.executable, "-m", "uvicorn", "elysium.app:create_app", "--factory"]
    argv += ["--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(argv, env=env | {"DATABASE_URL": database_url}, cwd=PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the app did not start")


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json() if response.content else None


async def _place_orders(base: str) -> list[dict[str, Any]]:
    """Each client registers, saves an address, fills a cart and checks out (bank transfer)."""
    configurations = _configurations()
    orders = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for name, slug in CLIENTS:
            email = f"{name.split()[0].lower()}.{uuid.uuid4().hex[:4]}@example.com"
            body = {"email": email, "password": PASSWORD, "name": name}
            _ok(await http.post("/api/auth/register", json=body))
            login = {"email": email, "password": PASSWORD}
            token = _ok(await http.post("/api/auth/login", json=login))["token"]
            http.cookies.clear()
            auth = {"Authorization": f"Bearer {token}"}
            address = {"type": "shipping", "name": name, "country": "GB"} | ADDRESS
            address_id = _ok(await http.post("/api/user/addresses", json=address, headers=auth))[
                "id"
            ]
            line = {"product_slug": slug, "configuration": configurations[slug], "quantity": 1}
            _ok(await http.post("/api/cart", json=line, headers=auth))
            checkout = {"shipping_address_id": address_id, "billing_address_id": address_id}
            headers = auth | {"Idempotency-Key": str(uuid.uuid4())}
            placed = _ok(await http.post("/api/checkout", json=checkout, headers=headers))
            orders.append(placed["order"])
    return orders


async def _move_orders(base: str, orders: list[dict[str, Any]]) -> None:
    """The atelier confirms transfers and sends pieces on, leaving a spread of statuses."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        login = {"email": ADMIN_EMAIL, "password": PASSWORD}
        token = _ok(await http.post("/api/auth/login", json=login))["token"]
        http.cookies.clear()
        auth = {"Authorization": f"Bearer {token}"}
        steps = [["PAID", "FULFILLED", "SHIPPED"], ["PAID", "FULFILLED"], ["PAID"], [], []]
        for order, moves in zip(orders, steps, strict=True):
            for status in moves:
                body: dict[str, str] = {"status": status}
                if status == "SHIPPED":
                    body |= {"carrier": "Royal Mail Special Delivery", "tracking_number": "AB123"}
                url = f"/api/orders/{order['id']}/status"
                _ok(await http.put(url, json=body, headers=auth))


async def _screenshots(base: str, orders: list[dict[str, Any]]) -> list[Path]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("Chromium is not installed (Debian package `chromium`)")
    OUT.mkdir(parents=True, exist_ok=True)
    shots = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        context = await browser.new_context(
            base_url=base, viewport={"width": 1180, "height": 820}, device_scale_factor=1
        )
        page = await context.new_page()
        await page.goto("/admin/login")
        await page.fill("input[name=email]", ADMIN_EMAIL)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("form[action='/admin/login'] button")
        await page.wait_for_url(f"{base}/admin")
        shown = orders[1]
        await page.goto(f"/admin/orders/{shown['id']}")
        await page.fill("textarea[name=body]", "Client asked for gift wrapping and a card.")
        await page.get_by_test_id("add-note").click()
        await page.wait_for_url(f"**/admin/orders/{shown['id']}?done=note")
        for name, path in (
            ("dashboard", "/admin"),
            ("order", f"/admin/orders/{shown['id']}"),
            ("inventory", "/admin/inventory"),
            ("orders", "/admin/orders"),
        ):
            await page.goto(path)
            target = OUT / f"{name}.png"
            await page.screenshot(path=str(target), full_page=True)
            shots.append(target)
        await browser.close()
    return shots


async def _orders_and_screenshots(base: str) -> list[Path]:
    orders = await _place_orders(base)
    await _move_orders(base, orders)
    return await _screenshots(base, orders)


def _run(database_url: str) -> list[Path]:
    upgrade_to_head(database_url)
    asyncio.run(load_demo_into(database_url, only_if_empty=False))
    outbox = tempfile.mkdtemp(prefix="elysium-shots-outbox-")
    env = os.environ | {
        "ENVIRONMENT": "development",
        "COOKIE_SECURE": "false",
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
        "EMAIL_OUTBOX_DIR": outbox,
        "STAFF_REQUIRE_2FA": "false",
        "REDIS_URL": "",
        "DATABASE_URL": database_url,
    }
    create = [sys.executable, "-m", "elysium.cli", "user", "create", "--email", ADMIN_EMAIL]
    create += ["--password", PASSWORD, "--role", "admin"]
    subprocess.run(create, env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    proc, base = _start_server(database_url, env)
    try:
        return asyncio.run(_orders_and_screenshots(base))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(outbox, ignore_errors=True)


def main() -> int:
    with scratch_database("elysium_shots") as url:
        shots = _run(url)
    for shot in shots:
        sys.stdout.write(f"saved {shot.relative_to(PROJECT_ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
