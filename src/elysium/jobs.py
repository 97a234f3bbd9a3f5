"""The procrastinate job queue: the app, the one `enqueue` every domain calls, job sessions.

`enqueue` writes the job with procrastinate's own defer function on the caller's connection,
inside the caller's transaction: commit means the job exists, rollback means it never did.
Task modules decorate functions with `@job_app.task(...)` and are listed in TASK_MODULES.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from procrastinate import App, BaseRetryStrategy, PsycopgConnector, RetryDecision
from procrastinate.app import WorkerOptions
from procrastinate.jobs import Job
from sqlalchemy import bindparam, delete, exists, select, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from elysium.config import get_settings
from elysium.db import (
    create_engine,
    create_sessionmaker,
    direct_database_url,
    libpq_url,
    rows_affected,
)
from elysium.kit.clock import utcnow
from elysium.kit.metrics import JOB_QUEUE_DEPTH, JOBS_FAILED, WORKER_RESTARTS
from elysium.models import JobError

if TYPE_CHECKING:
    from procrastinate.job_context import JobContext
    from procrastinate.worker import Worker

log = logging.getLogger(__name__)

TASK_MODULES: list[str] = [
    "elysium.accounts.tasks",
    "elysium.analytics.tasks",
    "elysium.background.tasks",
    "elysium.cart.tasks",
    "elysium.checkout.tasks",
    "elysium.consultations.tasks",
    "elysium.engagement.tasks",
    "elysium.inventory.tasks",
    "elysium.notifications.tasks",
    "elysium.orders.tasks",
    "elysium.privacy.tasks",
    "elysium.subscriptions.tasks",
]
"""Modules whose import registers tasks on `job_app`: add yours here."""

_DEFER = text(
    """
    SELECT (procrastinate_defer_jobs_v1(ARRAY[ROW(
        CAST(:queue AS varchar), CAST(:task_name AS varchar), CAST(:priority AS integer),
        CAST(:lock AS text), CAST(:queueing_lock AS text), :args,
        CAST(:scheduled_at AS timestamptz)
    )]::procrastinate_job_to_defer_v1[]))[1]
    """
).bindparams(bindparam("args", type_=JSONB))


class PermanentJobError(Exception):
    """Raise from a task to fail its job at once: retrying cannot help."""


class BackoffRetry(BaseRetryStrategy):
    """Exponential backoff (`JOB_RETRY_BASE_SECONDS * 2**attempt`, capped) for
    `JOB_MAX_ATTEMPTS` runs, read at decision time; then the job stays `failed` (dead letter)."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        settings = get_settings()
        if isinstance(exception, PermanentJobError):
            return None
        if job.attempts + 1 >= settings.job_max_attempts:
            return None
        delay = settings.job_retry_base_seconds * 2**job.attempts
        asked = getattr(exception, "retry_after", None)  # e.g. a provider's Retry-After
        if isinstance(asked, int | float):
            delay = max(delay, asked)
        delay = min(delay, settings.job_retry_max_seconds)
        return RetryDecision(retry_at=utcnow() + timedelta(seconds=delay))


RETRY = BackoffRetry()
"""The retry strategy every task should use: `@job_app.task(name=..., retry=RETRY)`."""


async def record_job_error(
    call_next: Callable[[], Awaitable[Any]], context: JobContext, worker: Worker
) -> Any:
    """Worker middleware: keep the last error of a failing job for the staff's job list."""
    try:
        return await call_next()
    except Exception as exc:
        JOBS_FAILED.labels(context.job.task_name).inc()
        await _save_job_error(context.job, exc)
        raise


async def _save_job_error(job: Job, exc: Exception) -> None:
    if job.id is None:
        return
    error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
    values = {"task_name": job.task_name, "attempt": job.attempts + 1, "error": error}
    stmt = insert(JobError).values(job_id=job.id, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[JobError.job_id], set_={**values, "failed_at": utcnow()}
    )
    try:
        async with job_session() as session:
            await session.execute(stmt)
    except Exception:  # never hide the job's own error behind a bookkeeping one
        log.exception("could not record the error of job %s", job.id)


job_app = App(
    connector=PsycopgConnector(),
    import_paths=TASK_MODULES,
    worker_defaults={"worker_middleware": [record_job_error]},
)
"""The task registry; workers and tests connect it with `open_job_app`."""


@asynccontextmanager
async def open_job_app(database_url: str | None = None) -> AsyncIterator[App]:
    """`job_app` connected (its own pool) to the service's database for the block.

    procrastinate LISTENs for new jobs and takes advisory locks: session state that a pooler in
    transaction mode would break, so it uses `DATABASE_DIRECT_URL` when that is set."""
    url = libpq_url(direct_database_url(get_settings(), database_url))
    connector = PsycopgConnector(conninfo=url, kwargs={"application_name": "elysium-jobs"})
    with job_app.replace_connector(connector) as app:
        async with app.open_async():
            yield app


def _ensure_task_known(task_name: str) -> None:
    job_app.perform_import_paths()  # type: ignore[no-untyped-call]
    if task_name not in job_app.tasks:
        raise LookupError(f"no job task {task_name!r}: add its module to TASK_MODULES")


async def enqueue(
    session: AsyncSession,
    task_name: str,
    *,
    queue: str = "default",
    lock: str | None = None,
    queueing_lock: str | None = None,
    scheduled_at: datetime | None = None,
    priority: int = 0,
    **kwargs: Any,
) -> int | None:
    """Defer `task_name(**kwargs)` in the caller's transaction; returns the job id.

    `lock`: jobs sharing it run one at a time. `queueing_lock`: at most one such job waits;
    a second enqueue is skipped (returns None) without disturbing the transaction.
    `kwargs` must be JSON values.
    """
    _ensure_task_known(task_name)
    params = {
        "queue": queue,
        "task_name": task_name,
        "priority": priority,
        "lock": lock,
        "queueing_lock": queueing_lock,
        "args": kwargs,
        "scheduled_at": scheduled_at,
    }
    if queueing_lock is None:
        return int((await session.execute(_DEFER, params)).scalar_one())
    try:
        async with session.begin_nested():
            return int((await session.execute(_DEFER, params)).scalar_one())
    except IntegrityError:
        return None


@cache
def job_engine() -> AsyncEngine:
    """This process's engine for task bodies, made on first use from the settings."""
    return create_engine(get_settings())


@cache
def _job_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(job_engine())


@asynccontextmanager
async def job_session() -> AsyncIterator[AsyncSession]:
    """One session and transaction for a job body: committed when the block ends cleanly."""
    async with _job_sessionmaker()() as session, session.begin():
        yield session


async def delete_in_batches(
    delete_batch: Callable[[AsyncSession, int], Awaitable[int]], batch_size: int
) -> int:
    """Run `delete_batch` in one short transaction after another until a batch comes back
    short, so a large purge never holds its row locks for long; the total deleted."""
    total = 0
    while True:
        async with job_session() as session:
            removed = await delete_batch(session, batch_size)
        total += removed
        if removed < batch_size:
            return total


async def delete_orphan_job_errors(session: AsyncSession) -> int:
    """Delete the error notes of jobs that no longer exist; the count deleted."""
    job_exists = exists(
        select(text("1"))
        .select_from(text("procrastinate_jobs j"))
        .where(text("j.id = job_errors.job_id"))
    )
    return rows_affected(await session.execute(delete(JobError).where(~job_exists)))


async def dispose_job_engine() -> None:
    """Close the task engine's connections (end of a worker, or of a test run)."""
    if job_engine.cache_info().currsize:
        await job_engine().dispose()
    job_engine.cache_clear()
    _job_sessionmaker.cache_clear()


_QUEUE_DEPTH = text(
    "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs"
    " WHERE status IN ('todo', 'doing', 'failed') GROUP BY queue_name, status"
)


async def refresh_queue_metrics(session: AsyncSession) -> None:
    """Read the queue's depth (jobs waiting, running and dead-lettered, per queue) into the
    `elysium_job_queue_depth` gauge; a queue that emptied reads 0."""
    rows = (await session.execute(_QUEUE_DEPTH)).all()
    for metric in JOB_QUEUE_DEPTH.collect():
        for sample in metric.samples:
            JOB_QUEUE_DEPTH.labels(sample.labels["queue"], sample.labels["status"]).set(0)
    for queue, status, count in rows:
        JOB_QUEUE_DEPTH.labels(queue, status).set(count)


async def _refresh_queue_metrics_forever(every: float = 15.0) -> None:
    while True:
        try:
            async with job_session() as session:
                await refresh_queue_metrics(session)
        except Exception as exc:  # the database may be away: try again next round
            log.debug("queue metrics not refreshed: %r", exc)
        await asyncio.sleep(every)


async def run_worker(
    concurrency: int = 4, queues: list[str] | None = None, database_url: str | None = None
) -> None:
    """Run one worker until SIGINT/SIGTERM (`elysium worker`); jobs are shared safely with any
    number of other workers through row locks in PostgreSQL.

    A lost database (a failover, a PgBouncer restart, `pg_terminate_backend`) stops
    procrastinate's worker; this loop opens a new connection pool and starts it again after a
    backoff (`WORKER_RECONNECT_MAX_SECONDS` at most), so the process never exits for a blip.
    SIGTERM lets running jobs finish (`WORKER_SHUTDOWN_SECONDS`); a job still running then is
    aborted and retried (the `retry_stalled_jobs` periodic job picks up a job whose worker
    died without saying so)."""
    settings = get_settings()
    options = WorkerOptions(
        concurrency=concurrency,
        install_signal_handlers=False,  # ours below survive the restarts
        shutdown_graceful_timeout=settings.worker_shutdown_seconds,
    )
    if queues:
        options["queues"] = queues
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    delay = 1.0
    refresher = asyncio.create_task(_refresh_queue_metrics_forever(), name="queue metrics")
    try:
        while not stopping.is_set():
            started = time.monotonic()
            try:
                await _run_worker_once(options, database_url, stopping)
            except Exception as exc:
                log.warning("worker lost its database (%r); starting again in %.0f s", exc, delay)
                WORKER_RESTARTS.inc()
            else:
                if stopping.is_set():
                    return
            if time.monotonic() - started > 60:  # it had been running well: start quickly
                delay = 1.0
            with suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=delay)
            delay = min(delay * 2, settings.worker_reconnect_max_seconds)
    finally:
        refresher.cancel()
        with suppress(asyncio.CancelledError):
            await refresher
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await dispose_job_engine()


async def _run_worker_once(
    options: WorkerOptions, database_url: str | None, stopping: asyncio.Event
) -> None:
    """One procrastinate worker on one connection pool, until it fails or `stopping` is set
    (then it is cancelled, which procrastinate treats as a graceful stop)."""
    async with open_job_app(database_url) as app:
        worker = asyncio.create_task(app.run_worker_async(**options), name="procrastinate")
        stop = asyncio.create_task(stopping.wait(), name="stop")
        await asyncio.wait({worker, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not worker.done():
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
            return
        worker.result()  # the worker's own error, if any
        if not stopping.is_set():
            raise RuntimeError("the worker stopped by itself")
