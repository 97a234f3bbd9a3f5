"""A job that keeps failing ends as a dead letter that staff can see and send back."""

from __future__ import annotations

import json

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from elysium.models import AuditEvent, SentEmail
from factories import Account, queue_welcome, unique_email
from job_helpers import http_peer, jobs_by_task, resend_env, run_jobs, settings_env

DOWN = (503, json.dumps({"message": "service unavailable"}).encode())
UP = (200, json.dumps({"id": "re_after_retry"}).encode())


async def test_dead_letter_is_listed_for_staff_and_a_retry_delivers_it(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    to = unique_email()
    outage = True
    with (
        http_peer(lambda n: DOWN if outage else UP) as resend,
        settings_env(**resend_env(resend.url, JOB_RETRY_BASE_SECONDS="0", JOB_MAX_ATTEMPTS="3")),
    ):
        await queue_welcome(app, to)
        await run_jobs()
        assert len(resend.requests) == 3  # JOB_MAX_ATTEMPTS runs, then it stops

        listed = await client.get("/api/admin/jobs?status=failed", headers=staff.headers)
        assert listed.status_code == 200
        [dead] = listed.json()["items"]
        assert (dead["task_name"], dead["status"], dead["attempts"]) == (
            "deliver_email",
            "failed",
            3,
        )
        assert "503" in dead["last_error"]
        assert dead["last_error_at"] is not None
        assert "email_id" in dead["args_summary"]

        outage = False
        retried = await client.post(f"/api/admin/jobs/{dead['id']}/retry", headers=staff.headers)
        assert retried.status_code == 200, retried.text
        assert retried.json() == {"id": dead["id"], "task_name": "deliver_email", "status": "todo"}
        await run_jobs()

    assert len(resend.requests) == 4
    assert len({r.headers["Idempotency-Key"] for r in resend.requests}) == 1
    [job] = await jobs_by_task(app.state.engine, "deliver_email")
    assert job["status"] == "succeeded"
    empty = await client.get("/api/admin/jobs", headers=staff.headers)
    assert empty.json() == {"items": [], "next_cursor": None}
    async with app.state.sessionmaker() as session:
        email = (await session.execute(select(SentEmail).where(SentEmail.to == to))).scalar_one()
        audit = (
            await session.execute(select(AuditEvent).where(AuditEvent.action == "job.retried"))
        ).scalar_one()
    assert (email.status, email.provider_id) == ("sent", "re_after_retry")
    assert (str(audit.actor_id), audit.target_id) == (staff.id, str(dead["id"]))


async def test_retry_needs_a_failed_job(app: FastAPI, client: AsyncClient, staff: Account) -> None:
    await queue_welcome(app, unique_email())
    [job] = await jobs_by_task(app.state.engine, "deliver_email")
    waiting = await client.post(f"/api/admin/jobs/{job['id']}/retry", headers=staff.headers)
    assert waiting.status_code == 409
    missing = await client.post("/api/admin/jobs/999999/retry", headers=staff.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_job_list_is_for_staff_only_and_validates_input(
    app: FastAPI, client: AsyncClient, customer: Account, staff: Account
) -> None:
    assert (await client.get("/api/admin/jobs")).status_code == 401
    assert (await client.get("/api/admin/jobs", headers=customer.headers)).status_code == 403
    forbidden = await client.post("/api/admin/jobs/1/retry", headers=customer.headers)
    assert forbidden.status_code == 403
    for query in ("status=exploded", "limit=0", "cursor=%%%", "cursor=WyJ4Il0"):
        response = await client.get(f"/api/admin/jobs?{query}", headers=staff.headers)
        assert response.status_code == 422, query


async def test_job_list_pages_newest_first(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    for _ in range(3):
        await queue_welcome(app, unique_email())
    ids = sorted(
        (j["id"] for j in await jobs_by_task(app.state.engine, "deliver_email")), reverse=True
    )
    first = await client.get("/api/admin/jobs?status=todo&limit=2", headers=staff.headers)
    page = first.json()
    assert [j["id"] for j in page["items"]] == ids[:2]
    second = await client.get(
        f"/api/admin/jobs?status=todo&limit=2&cursor={page['next_cursor']}", headers=staff.headers
    )
    assert [j["id"] for j in second.json()["items"]] == ids[2:]
    assert second.json()["next_cursor"] is None
