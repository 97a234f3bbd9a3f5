"""The staff's job list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class JobRead(BaseModel):
    """One job of the queue; `last_error` is the error of its latest failed attempt."""

    id: int
    task_name: str
    queue_name: str
    status: str
    attempts: int
    args_summary: str
    last_error: str | None
    last_error_at: datetime | None
    last_event_at: datetime | None


class JobRetried(BaseModel):
    """A job sent back to the queue."""

    id: int
    task_name: str
    status: str
