"""Data retention: what the shop stops keeping once it is old enough, each domain deleting its
own rows (the nightly `apply_data_retention` job runs this)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from elysium import idempotency, jobs
from elysium.config import Settings
from elysium.kit.clock import utcnow
from elysium.notifications import emails
from elysium.notifications import service as notifications


async def apply_retention(session: AsyncSession, settings: Settings) -> dict[str, int]:
    """Forget what is past its retention: email contexts (the body data), notifications,
    idempotency keys and error notes of jobs that no longer exist; the count of each."""
    now = utcnow()
    email_cutoff = now - timedelta(days=settings.email_retention_days)
    notice_cutoff = now - timedelta(days=settings.notification_retention_days)
    key_cutoff = now - timedelta(days=settings.idempotency_key_ttl_days)
    return {
        "email_contexts": await emails.forget_email_contexts(session, email_cutoff),
        "notifications": await notifications.delete_notifications_before(session, notice_cutoff),
        "idempotency_keys": await idempotency.delete_keys_before(session, key_cutoff),
        "job_errors": await jobs.delete_orphan_job_errors(session),
    }
