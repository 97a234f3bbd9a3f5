"""The procrastinate job queue: the app, the one `enqueue` every domain calls, job sessions.

`enqueue` writes the job with procrastinate's own defer function on the caller's connection,
inside the caller's transaction: commit means the job exists, rollback means it never did.
Task modules decorate functions with `@job_app.task(...)` and are listed in TASK_MODULES.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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
    libpq_url,
    resolve_database_url,
    rows_affected,
)
from elysium.kit.clock import utcnow
from elysium.models import JobError

if TYPE_CHECKING:
    from procrastinate.job_context import JobContext
    from procrastinate.worker import Worker

log = logging.getLogger(__name__)

TASK_MODULES: list[str] = [
    "elysium.accounts.tasks",
    "elysium.analytics.tasks",
    "elysium.cart.tasks",
    "elysium.checkout.tasks",
    "elysium.consultations.tasks",
    "elysium.engagement.tasks",
    "elysium.inventory.tasks",
    "elysium.notifications.tasks",
    "elysium.orders.tasks",
    "elysium.privacy.tasks",
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
    """`job_app` connected (its own pool) to the service's database for the block."""
    url = libpq_url(database_url or resolve_database_url(get_settings()))
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


async def run_worker(
    concurrency: int = 4, queues: list[str] | None = None, database_url: str | None = None
) -> None:
    """Run one worker until SIGINT/SIGTERM (`elysium worker`); jobs are shared safely with any
    number of other workers through row locks in PostgreSQL."""
    options = WorkerOptions(
        concurrency=concurrency, install_signal_handlers=True, shutdown_graceful_timeout=30
    )
    if queues:
        options["queues"] = queues
    try:
        async with open_job_app(database_url) as app:
            await app.run_worker_async(**options)
    finally:
        await dispose_job_engine()
