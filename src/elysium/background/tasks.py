"""Periodic jobs. Every worker runs the scheduler; procrastinate defers each tick once."""

from __future__ import annotations

import logging

from procrastinate import JobContext

from elysium.background import housekeeping
from elysium.config import get_settings
from elysium.consultations.service import send_due_reminders
from elysium.inventory.reservations import expire_reservations
from elysium.jobs import job_app, job_engine, job_session
from elysium.kit.ratelimit import delete_expired_rate_events
from elysium.orders.service import expire_unpaid_orders

log = logging.getLogger(__name__)


@job_app.periodic(cron="* * * * *")
@job_app.task(name="expire_holds", queue="maintenance", queueing_lock="expire_holds")
async def expire_holds(timestamp: int) -> None:
    """Cancel unpaid orders past their deadline (releasing their stock), then delete the
    remaining expired stock reservations; each step in its own transaction."""
    async with job_session() as session:
        await expire_unpaid_orders(session)
    async with job_session() as session:
        await expire_reservations(session)


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
