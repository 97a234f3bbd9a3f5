"""Emails go through the job queue: logged and queued with the business change, delivered once
by a worker, retried through a provider outage, never sent twice."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from jinja2 import UndefinedError
from sqlalchemy import select

from elysium.config import Settings
from elysium.models import SentEmail
from elysium.notifications.email import UnknownTemplateError
from elysium.notifications.emails import deliver_email, send_email
from factories import WELCOME_CONTEXT, queue_welcome, register_customer, unique_email
from job_helpers import http_peer, jobs_by_task, resend_env, run_jobs, settings_env


def outbox_messages(settings: Settings, to: str, subject: str | None = None) -> list[Path]:
    found = []
    for path in sorted(Path(settings.email_outbox_dir).glob("*.eml")):
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        if parsed["To"] == to and subject in (None, parsed["Subject"]):
            found.append(path)
    return found


async def sent_emails(app: FastAPI, to: str, template: str | None = None) -> list[SentEmail]:
    async with app.state.sessionmaker() as session:
        stmt = select(SentEmail).where(SentEmail.to == to)
        if template is not None:
            stmt = stmt.where(SentEmail.template == template)
        return list((await session.execute(stmt)).scalars())


async def test_welcome_email_from_registration_lands_in_the_outbox(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    account = await register_customer(client)
    [queued] = await sent_emails(app, account.email, "welcome")
    assert (queued.status, queued.template, queued.attempts) == ("queued", "welcome", 0)
    assert outbox_messages(settings, account.email) == []

    await run_jobs()

    [path] = outbox_messages(settings, account.email, "Welcome to ELYSIUM")
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Welcome to ELYSIUM"
    plain = parsed.get_body(("plain",))
    assert plain is not None
    assert "Ada Client" in plain.get_content()
    [sent] = await sent_emails(app, account.email, "welcome")
    assert (sent.status, sent.attempts, sent.provider_id) == ("sent", 1, path.name)
    assert sent.sent_at is not None


async def test_the_same_idempotency_key_queues_one_email(app: FastAPI, settings: Settings) -> None:
    to = unique_email()
    await queue_welcome(app, to, "welcome:twice")
    await queue_welcome(app, to, "welcome:twice")
    assert len(await sent_emails(app, to)) == 1
    assert len(await jobs_by_task(app.state.engine, "deliver_email")) == 1
    await run_jobs()
    assert len(outbox_messages(settings, to)) == 1


async def test_a_template_that_cannot_render_fails_the_caller_and_writes_nothing(
    app: FastAPI,
) -> None:
    to = unique_email()
    async with app.state.sessionmaker() as session, session.begin():
        with pytest.raises(UndefinedError):
            await send_email(session, to=to, template="welcome", context={}, idempotency_key="k1")
        with pytest.raises(UnknownTemplateError):
            await send_email(session, to=to, template="nope", context={}, idempotency_key="k2")
        with pytest.raises(ValueError, match="not an email address"):
            await send_email(
                session,
                to="nobody",
                template="welcome",
                context=WELCOME_CONTEXT,
                idempotency_key="k3",
            )
    assert await sent_emails(app, to) == []
    assert await jobs_by_task(app.state.engine, "deliver_email") == []


def resend_down_twice(number: int) -> tuple[int, bytes]:
    if number <= 2:
        return 503, json.dumps({"name": "internal_server_error", "message": "down"}).encode()
    return 200, json.dumps({"id": "re_msg_1"}).encode()


async def test_provider_outage_is_retried_until_delivered_once(app: FastAPI) -> None:
    to = unique_email()
    with (
        http_peer(resend_down_twice) as resend,
        settings_env(**resend_env(resend.url, JOB_RETRY_BASE_SECONDS="0")),
    ):
        await queue_welcome(app, to, "welcome:outage")
        await run_jobs()
    assert len(resend.requests) == 3
    assert {r.headers["Idempotency-Key"] for r in resend.requests} == {"welcome:outage"}
    assert all(r.path == "/emails" for r in resend.requests)
    [sent] = await sent_emails(app, to)
    assert (sent.status, sent.attempts, sent.provider_id) == ("sent", 3, "re_msg_1")
    assert "503" in (sent.last_error or "")
    [job] = await jobs_by_task(app.state.engine, "deliver_email")
    assert (job["status"], job["attempts"]) == ("succeeded", 3)


async def test_an_email_already_sent_is_not_sent_again(app: FastAPI) -> None:
    to = unique_email()
    with (
        http_peer(lambda n: (200, b'{"id": "re_once"}')) as resend,
        settings_env(**resend_env(resend.url)),
    ):
        await queue_welcome(app, to, "welcome:once")
        await run_jobs()
        [job] = await jobs_by_task(app.state.engine, "deliver_email")
        [row] = await sent_emails(app, to)
        await deliver_email(row.id)  # a duplicate run of the job finds it sent
    assert len(resend.requests) == 1
    assert job["status"] == "succeeded"


async def test_a_rejected_email_is_marked_failed_without_retries(app: FastAPI) -> None:
    to = unique_email()
    rejected = json.dumps({"name": "validation_error", "message": "bad address"}).encode()
    with (
        http_peer(lambda n: (422, rejected)) as resend,
        settings_env(**resend_env(resend.url, JOB_RETRY_BASE_SECONDS="0")),
    ):
        await queue_welcome(app, to, "welcome:rejected")
        await run_jobs()
    assert len(resend.requests) == 1
    [row] = await sent_emails(app, to)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "bad address" in (row.last_error or "")
    [job] = await jobs_by_task(app.state.engine, "deliver_email")
    assert (job["status"], job["attempts"]) == ("failed", 1)
