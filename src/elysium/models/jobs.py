"""The last error of each background job, for the staff's dead-letter view."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base


class JobError(Base):
    """The last error raised by a procrastinate job (procrastinate keeps no error text)."""

    __tablename__ = "job_errors"

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    task_name: Mapped[str] = mapped_column(String(128))
    attempt: Mapped[int]
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
