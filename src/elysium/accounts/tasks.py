"""Jobs of the accounts domain: password-reset emails, old sessions and old rate-limit events."""

from __future__ import annotations

import logging

from elysium.accounts import recovery, service
from elysium.config import get_settings
from elysium.jobs import RETRY, job_app, job_engine, job_session
from elysium.kit.ratelimit import delete_expired_rate_events

log = logging.getLogger(__name__)


@job_app.periodic(cron="17 * * * *")
@job_app.task(name="delete_expired_sessions", queue="maintenance")
async def delete_expired_sessions(timestamp: int) -> None:
    """Delete sign-in sessions expired or revoked more than SESSION_RETENTION_DAYS ago."""
    async with job_session() as session:
        removed = await service.delete_expired_sessions(
            session, get_settings().session_retention_days
        )
    log.info("deleted %d old sessions", removed)


# The limiter itself is a shared piece (kit.ratelimit), but its PostgreSQL store `rate_events`
# is declared with the accounts tables and mostly counts failed sign-ins, so accounts tidies it.
@job_app.periodic(cron="*/10 * * * *")
@job_app.task(name="delete_old_rate_events", queue="maintenance")
async def delete_old_rate_events(timestamp: int) -> None:
    """Delete counted sign-in failures and writes older than any rate-limit window."""
    settings = get_settings()
    window = max(settings.login_failure_window_seconds, 60)
    removed = await delete_expired_rate_events(job_engine(), window)
    log.info("deleted %d old rate events", removed)


@job_app.task(name=recovery.SEND_PASSWORD_RESET, queue="email", retry=RETRY)
async def send_password_reset(email: str) -> None:
    """Email a password-reset link when an account uses `email` (nothing otherwise)."""
    async with job_session() as session:
        await recovery.send_password_reset(session, get_settings(), email)
