"""Periodic jobs of the privacy domain: the nightly data retention."""

from __future__ import annotations

import logging

from procrastinate import JobContext

from elysium.config import get_settings
from elysium.jobs import job_app, job_session
from elysium.privacy.retention import apply_retention

log = logging.getLogger(__name__)


@job_app.periodic(cron="30 3 * * *")
@job_app.task(name="apply_data_retention", queue="maintenance", pass_context=True)
async def apply_data_retention(context: JobContext, timestamp: int) -> None:
    """Forget data past its retention and finished jobs older than JOB_RETENTION_DAYS."""
    settings = get_settings()
    async with job_session() as session:
        counts = await apply_retention(session, settings)
    await context.app.job_manager.delete_old_jobs(
        nb_hours=settings.job_retention_days * 24, include_cancelled=True, include_aborted=True
    )
    log.info("data retention applied: %s", counts)
