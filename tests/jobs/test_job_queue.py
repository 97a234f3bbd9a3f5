"""The job queue: enqueue is part of the caller's transaction, and each job runs once even with
several workers."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from procrastinate import JobContext

from elysium.jobs import enqueue, job_app
from factories import DEFAULT_PASSWORD, register_customer
from job_helpers import jobs_by_task, run_jobs

RUNS: Counter[str] = Counter()
WORKERS_SEEN: set[str] = set()


@job_app.task(name="tests.count_run", pass_context=True)
async def count_run(context: JobContext, key: str, pause: float = 0.0) -> None:
    RUNS[key] += 1
    WORKERS_SEEN.add(context.worker_name or "")
    await asyncio.sleep(pause)


class Boom(Exception):
    pass


async def _enqueue_then_fail(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        job_id = await enqueue(session, "tests.count_run", key="rolled-back")
        assert job_id is not None
        assert await jobs_by_task(app.state.engine, "tests.count_run") == []  # not yet visible
        raise Boom


async def test_enqueue_rolled_back_leaves_no_job(app: FastAPI) -> None:
    with pytest.raises(Boom):
        await _enqueue_then_fail(app)
    assert await jobs_by_task(app.state.engine, "tests.count_run") == []
    await run_jobs()
    assert RUNS["rolled-back"] == 0


async def test_enqueue_committed_is_run_by_a_worker(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        job_id = await enqueue(session, "tests.count_run", key="committed")
    [job] = await jobs_by_task(app.state.engine, "tests.count_run")
    assert (job["id"], job["status"], job["args"]) == (job_id, "todo", {"key": "committed"})
    await run_jobs()
    assert RUNS["committed"] == 1
    [job] = await jobs_by_task(app.state.engine, "tests.count_run")
    assert job["status"] == "succeeded"


async def test_unknown_task_is_refused_at_enqueue(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        with pytest.raises(LookupError, match="no job task"):
            await enqueue(session, "tests.no_such_task")


async def test_queueing_lock_skips_a_second_waiting_job_and_keeps_the_transaction(
    app: FastAPI,
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        first = await enqueue(session, "tests.count_run", queueing_lock="once", key="lock-a")
        second = await enqueue(session, "tests.count_run", queueing_lock="once", key="lock-b")
        third = await enqueue(session, "tests.count_run", key="lock-c")
    assert first is not None
    assert second is None
    assert third is not None
    keys = [j["args"]["key"] for j in await jobs_by_task(app.state.engine, "tests.count_run")]
    assert keys == ["lock-a", "lock-c"]


async def test_each_job_runs_exactly_once_with_two_workers(app: FastAPI) -> None:
    keys = [f"burst-{i}" for i in range(40)]
    async with app.state.sessionmaker() as session, session.begin():
        for key in keys:
            await enqueue(session, "tests.count_run", key=key, pause=0.05)
    WORKERS_SEEN.clear()
    names = await run_jobs(workers=2, concurrency=2)
    assert {key: RUNS[key] for key in keys} == dict.fromkeys(keys, 1)
    assert set(names) == WORKERS_SEEN  # both workers took part
    jobs = await jobs_by_task(app.state.engine, "tests.count_run")
    assert [j["status"] for j in jobs] == ["succeeded"] * len(keys)
    assert {j["attempts"] for j in jobs} == {1}


async def test_registration_enqueues_the_welcome_email_only_when_it_commits(
    app: FastAPI, client: AsyncClient
) -> None:
    account = await register_customer(client)
    # the welcome email and the email-verification link
    assert len(await jobs_by_task(app.state.engine, "deliver_email")) == 2
    again = await client.post(
        "/api/auth/register", json={"email": account.email, "password": DEFAULT_PASSWORD}
    )
    assert again.status_code == 409
    assert len(await jobs_by_task(app.state.engine, "deliver_email")) == 2
