"""Server-side Plausible purchase events: a real purchase (staff confirming a bank transfer,
the same settle path a card webhook takes) queues one event, sent by a job once per order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from httpx import AsyncClient

from elysium.config import Settings
from factories import make_account, placed_order, shopper, stocked_piece
from job_helpers import http_peer, jobs_by_task, run_jobs, settings_env


@contextmanager
def plausible_domain(
    app: FastAPI, settings: Settings, domain: str, api_base: str
) -> Iterator[None]:
    """PLAUSIBLE_DOMAIN for the running app (requests) and for job bodies (environment)."""
    app.state.settings = settings.model_copy(
        update={"plausible_domain": domain, "plausible_api_base": api_base}
    )
    try:
        with settings_env(PLAUSIBLE_DOMAIN=domain, PLAUSIBLE_API_BASE=api_base):
            yield
    finally:
        app.state.settings = settings


async def _buy(app: FastAPI, client: AsyncClient) -> dict[str, object]:
    """A customer's bank-transfer order, confirmed as paid by staff; the order as placed."""
    staff = await make_account(app, "staff")
    who = await shopper(app, client, await stocked_piece(app))
    order = await placed_order(client, who)
    for _ in range(2):  # a repeated confirmation is refused and counts nothing twice
        await client.put(
            f"/api/orders/{order['id']}/status", json={"status": "PAID"}, headers=staff.headers
        )
    return order


async def test_a_real_purchase_is_posted_to_plausible_once(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    with (
        http_peer(lambda n: (202, b"ok")) as plausible,
        plausible_domain(app, settings, "elysium.example", plausible.url),
    ):
        order = await _buy(app, client)
        await run_jobs()
    [request] = plausible.requests
    assert request.path == "/api/event"
    body = json.loads(request.body)
    assert body["name"] == "Purchase"
    assert body["domain"] == "elysium.example"
    assert body["revenue"] == {"currency": "GBP", "amount": "2400.00"}
    assert body["props"] == {"order_id": order["id"]}
    assert request.headers["User-Agent"]


async def test_nothing_is_queued_without_a_plausible_domain(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    with plausible_domain(app, settings, "", "http://127.0.0.1:9"):
        await _buy(app, client)
    assert await jobs_by_task(app.state.engine, "send_purchase_event") == []


async def test_an_unpaid_order_is_not_a_purchase(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    with plausible_domain(app, settings, "elysium.example", "http://127.0.0.1:9"):
        await placed_order(client, await shopper(app, client, await stocked_piece(app)))
    assert await jobs_by_task(app.state.engine, "send_purchase_event") == []
