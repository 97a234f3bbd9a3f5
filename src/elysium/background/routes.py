"""Staff endpoints for the job queue: the dead-letter list and manual retries."""

from __future__ import annotations

from fastapi import APIRouter, Query

from elysium.accounts.deps import StaffUser
from elysium.background import service
from elysium.background.schemas import JobRead, JobRetried
from elysium.db import SessionDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(tags=["admin: jobs"])


@router.get("/api/admin/jobs")
async def list_jobs(
    staff: StaffUser,
    session: SessionDep,
    status: service.JobStatus = Query("failed", description="Job status; `failed` = dead letters."),
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[JobRead]:
    """Background jobs in one status, newest first (staff). `failed` lists the dead letters:
    jobs that used up their attempts or failed permanently, with their last error."""
    rows, next_cursor = await service.list_jobs(session, status, limit=limit, cursor=cursor)
    return Page(items=[JobRead.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.post("/api/admin/jobs/{job_id}/retry")
async def retry_job(job_id: int, staff: StaffUser, session: SessionDep) -> JobRetried:
    """Send a failed job back to the queue with a fresh set of attempts (staff; audited).
    404 for an unknown job, 409 when the job has not failed."""
    return JobRetried.model_validate(await service.retry_job(session, staff, job_id))
