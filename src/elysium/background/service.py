"""The staff's view of the job queue: list jobs by status, send a dead letter back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.errors import ConflictError, NotFoundError, ValidationFailedError
from elysium.kit.pagination import decode_cursor, encode_cursor
from elysium.models import User

JobStatus = Literal["todo", "doing", "succeeded", "failed", "cancelled", "aborted"]
ARGS_SUMMARY_CHARS = 200

_LIST = text(
    """
    SELECT j.id, j.task_name, j.queue_name, j.status::text AS status, j.attempts, j.args,
           e.error AS last_error, e.failed_at AS last_error_at,
           (SELECT max(ev.at) FROM procrastinate_events ev WHERE ev.job_id = j.id) AS last_event_at
    FROM procrastinate_jobs j LEFT JOIN job_errors e ON e.job_id = j.id
    WHERE j.status = CAST(:status AS procrastinate_job_status)
      AND (CAST(:before AS bigint) IS NULL OR j.id < CAST(:before AS bigint))
    ORDER BY j.id DESC
    LIMIT :limit
    """
)

_RETRY = text(
    """
    WITH retried AS (
        UPDATE procrastinate_jobs SET status = 'todo', attempts = 0, scheduled_at = NULL
        WHERE id = :id AND status = 'failed'
        RETURNING id, queue_name, task_name
    ), notice AS (
        SELECT id, task_name, queue_name,
               json_build_object('type', 'job_inserted', 'job_id', id)::text AS payload
        FROM retried
    )
    SELECT id, task_name,
           pg_notify('procrastinate_queue_v1#' || queue_name, payload),
           pg_notify('procrastinate_any_queue_v1', payload)
    FROM notice
    """
)


def summarise_args(args: Mapping[str, Any]) -> str:
    """The job's arguments as short JSON for a list view."""
    raw = json.dumps(args, separators=(",", ":"), sort_keys=True, default=str)
    return raw if len(raw) <= ARGS_SUMMARY_CHARS else raw[: ARGS_SUMMARY_CHARS - 1] + "…"


def _before_id(cursor: str | None) -> int | None:
    values = decode_cursor(cursor, 1)
    if values is None:
        return None
    if not isinstance(values[0], int):
        raise ValidationFailedError(
            "The cursor is not valid.", errors=[{"field": "cursor", "message": "invalid cursor"}]
        )
    return values[0]


async def list_jobs(
    session: AsyncSession, status: JobStatus, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Jobs in `status`, newest first, with their last error; one page and the next cursor."""
    params = {"status": status, "before": _before_id(cursor), "limit": limit + 1}
    rows = [dict(row) for row in (await session.execute(_LIST, params)).mappings()]
    for row in rows:
        row["args_summary"] = summarise_args(row.pop("args") or {})
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor([rows[limit - 1]["id"]])


async def retry_job(session: AsyncSession, staff: User, job_id: int) -> dict[str, Any]:
    """Put a failed job back in the queue with a fresh set of attempts; audited."""
    row = (await session.execute(_RETRY, {"id": job_id})).mappings().one_or_none()
    if row is None:
        exists = await session.execute(
            text("SELECT 1 FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
        )
        if exists.first() is None:
            raise NotFoundError("No such job.")
        raise ConflictError("Only a failed job can be retried.")
    await record_event(
        session,
        "job.retried",
        actor_id=staff.id,
        target_type="job",
        target_id=job_id,
        details={"task": row["task_name"]},
    )
    return {"id": job_id, "task_name": row["task_name"], "status": "todo"}
