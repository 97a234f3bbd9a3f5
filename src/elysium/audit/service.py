"""Writing the audit log, always inside the transaction of the action it records."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.kit.context import current_client_ip, current_request_id
from elysium.models import AuditEvent


async def record_event(
    session: AsyncSession,
    action: str,
    *,
    actor_id: uuid.UUID | None,
    target_type: str | None = None,
    target_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit row in the caller's transaction."""
    session.add(
        AuditEvent(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            ip=current_client_ip(),
            request_id=current_request_id(),
            details=details or {},
        )
    )
    await session.flush()
