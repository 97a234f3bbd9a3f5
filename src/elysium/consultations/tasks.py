"""Periodic jobs of the consultations domain: reminders of upcoming appointments."""

from __future__ import annotations

import logging

from elysium.consultations.service import send_due_reminders
from elysium.jobs import job_app, job_session

log = logging.getLogger(__name__)


@job_app.periodic(cron="*/15 * * * *")
@job_app.task(
    name="remind_consultations", queue="maintenance", queueing_lock="remind_consultations"
)
async def remind_consultations(timestamp: int) -> None:
    """In-app reminders for atelier appointments in the next 24 hours."""
    async with job_session() as session:
        sent = await send_due_reminders(session)
    log.info("sent %d consultation reminders", sent)
