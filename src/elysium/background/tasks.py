"""Periodic jobs. Every worker runs the scheduler; procrastinate defers each tick once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from procrastinate import JobContext
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.background import housekeeping
from elysium.config import get_settings
from elysium.consultations.service import send_due_reminders
from elysium.jobs import job_app, job_engine, job_session
from elysium.kit.clock import utcnow
from elysium.kit.ratelimit import delete_expired_rate_events

log = logging.getLogger(__name__)

PURGE_BATCH_ROWS = 5000


@job_app.periodic(cron="17 * * * *")
@job_app.task(name="delete_expired_sessions", queue="maintenance")
async def delete_expired_sessions(timestamp: int) -> None:
    """Delete sign-in sessions expired or revoked more than SESSION_RETENTION_DAYS ago."""
    async with job_session() as session:
        removed = await housekeeping.delete_expired_sessions(
            session, get_settings().session_retention_days
        )
    log.info("deleted %d old sessions", removed)


@job_app.periodic(cron="*/10 * * * *")
@job_app.task(name="delete_old_rate_events", queue="maintenance")
async def delete_old_rate_events(timestamp: int) -> None:
    """Delete counted sign-in failures and writes older than any rate-limit window."""
    settings = get_settings()
    window = max(settings.login_failure_window_seconds, 60)
    removed = await delete_expired_rate_events(job_engine(), window)
    log.info("deleted %d old rate events", removed)


@job_app.periodic(cron="*/15 * * * *")
@job_app.task(
    name="remind_consultations", queue="maintenance", queueing_lock="remind_consultations"
)
async def remind_consultations(timestamp: int) -> None:
    """In-app reminders for atelier appointments in the next 24 hours."""
    async with job_session() as session:
        sent = await send_due_reminders(session)
    log.info("sent %d consultation reminders", sent)


@job_app.periodic(cron="0 8 * * *")
@job_app.task(name="send_low_stock_digest", queue="maintenance")
async def send_low_stock_digest(timestamp: int) -> None:
    """The morning low-stock digest to STAFF_EMAIL."""
    async with job_session() as session:
        await housekeeping.send_low_stock_digest(session, get_settings())


@job_app.periodic(cron="30 3 * * *")
@job_app.task(name="apply_data_retention", queue="maintenance", pass_context=True)
async def apply_data_retention(context: JobContext, timestamp: int) -> None:
    """Forget data past its retention and finished jobs older than JOB_RETENTION_DAYS."""
    settings = get_settings()
    async with job_session() as session:
        counts = await housekeeping.apply_retention(session, settings)
    await context.app.job_manager.delete_old_jobs(
        nb_hours=settings.job_retention_days * 24, include_cancelled=True, include_aborted=True
    )
    log.info("data retention applied: %s", counts)


async def _delete_in_batches(
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


@job_app.periodic(cron="45 3 * * *")
@job_app.task(
    name="purge_old_views_and_guest_carts",
    queue="maintenance",
    queueing_lock="purge_old_views_and_guest_carts",
)
async def purge_old_views_and_guest_carts(
    timestamp: int, batch_size: int = PURGE_BATCH_ROWS
) -> None:
    """Delete product views older than PRODUCT_VIEW_RETENTION_DAYS and expired guest carts
    (with their lines), in batches."""
    keep = timedelta(days=get_settings().product_view_retention_days)
    cutoff = utcnow() - keep
    views = await _delete_in_batches(
        lambda session, n: housekeeping.delete_product_views_before(session, cutoff, n),
        batch_size,
    )
    carts = await _delete_in_batches(housekeeping.delete_expired_guest_carts, batch_size)
    log.info("purged %d old product views and %d expired guest carts", views, carts)
