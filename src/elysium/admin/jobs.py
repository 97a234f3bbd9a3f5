"""Failed background jobs and their retry, through the background service (audited)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from elysium.accounts.deps import StaffUser
from elysium.admin.pages import back_to, render
from elysium.admin.security import csrf_protect
from elysium.background import service
from elysium.db import SessionDep
from elysium.kit.pagination import CursorQuery

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])
PAGE_SIZE = 50


@router.get("/jobs")
async def failed_jobs(
    request: Request, staff: StaffUser, session: SessionDep, cursor: CursorQuery = None
) -> Response:
    jobs, next_cursor = await service.list_jobs(session, "failed", limit=PAGE_SIZE, cursor=cursor)
    return render(request, "jobs.html", staff, jobs=jobs, next_cursor=next_cursor)


@router.post("/jobs/{job_id}/retry")
async def retry(job_id: int, staff: StaffUser, session: SessionDep) -> Response:
    await service.retry_job(session, staff, job_id)
    return back_to("/admin/jobs")
