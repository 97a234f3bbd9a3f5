"""GDPR endpoints: data export and right to erasure."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from elysium.accounts.deps import CurrentUser, StaffUser
from elysium.db import SessionDep
from elysium.kit.deps import SettingsDep
from elysium.privacy import service

router = APIRouter(tags=["privacy"])


@router.get("/api/user/export")
async def export_my_data(user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Everything ELYSIUM holds about you, as JSON (GDPR access and portability)."""
    return await service.export_user_data(session, user)


@router.delete("/api/user", status_code=status.HTTP_204_NO_CONTENT)
async def erase_me(
    user: CurrentUser, session: SessionDep, response: Response, settings: SettingsDep
) -> None:
    """Erase your account: personal data removed or anonymised; orders kept for accounting."""
    await service.erase_user(session, user)
    response.delete_cookie(settings.session_cookie_name, path="/")


@router.get("/api/admin/users/{user_id}/export")
async def export_client_data(
    user_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> dict[str, Any]:
    """A subject-access export for a client, run by staff (audited; only an admin exports a
    member of staff). The same document as `GET /api/user/export`."""
    return await service.export_for_staff(session, staff, user_id)
