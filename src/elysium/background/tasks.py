"""Jobs that keep the queue itself healthy."""

from __future__ import annotations

import structlog

from elysium.jobs import job_app

log = structlog.get_logger(__name__)


@job_app.periodic(cron="* * * * *")
@job_app.task(name="retry_stalled_jobs", queue="maintenance", queueing_lock="stalled_jobs")
async def retry_stalled_jobs(timestamp: int) -> None:
    """Jobs left `doing` by a worker that died (killed, or its database connection lost
    while it ran them) go back to the queue: a job is never lost with its worker. Task bodies
    are idempotent (idempotency keys, state checks), so a second run is safe."""
    stalled = list(await job_app.job_manager.get_stalled_jobs())
    for job in stalled:
        await job_app.job_manager.retry_job(job)
    if stalled:
        log.warning("jobs.stalled_retried", count=len(stalled))
