"""Server-side Plausible purchase events, sent by a job once per order."""

from __future__ import annotations

import json
import uuid

from fastapi import FastAPI

from elysium.config import get_settings
from elysium.notifications.analytics import track_purchase
from job_helpers import http_peer, jobs_by_task, run_jobs, settings_env


async def track(app: FastAPI, order_id: uuid.UUID, pence: int) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await track_purchase(session, get_settings(), order_id, pence, "GBP")


async def test_a_purchase_is_posted_to_plausible_once(app: FastAPI) -> None:
    order_id = uuid.uuid4()
    with (
        http_peer(lambda n: (202, b"ok")) as plausible,
        settings_env(PLAUSIBLE_DOMAIN="elysium.example", PLAUSIBLE_API_BASE=plausible.url),
    ):
        await track(app, order_id, 450050)
        await track(app, order_id, 450050)  # a repeat while the first waits is dropped
        await run_jobs()
    [request] = plausible.requests
    assert request.path == "/api/event"
    body = json.loads(request.body)
    assert body["name"] == "Purchase"
    assert body["domain"] == "elysium.example"
    assert body["revenue"] == {"currency": "GBP", "amount": "4500.50"}
    assert body["props"] == {"order_id": str(order_id)}
    assert request.headers["User-Agent"]


async def test_nothing_is_queued_without_a_plausible_domain(app: FastAPI) -> None:
    with settings_env(PLAUSIBLE_DOMAIN=""):
        await track(app, uuid.uuid4(), 1000)
    assert await jobs_by_task(app.state.engine, "send_purchase_event") == []
