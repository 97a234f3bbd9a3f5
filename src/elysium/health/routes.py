"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import text

from elysium.db import SessionDep, refresh_pool_metrics
from elysium.errors import ServiceUnavailableError
from elysium.health.service import check_metrics_access
from elysium.jobs import refresh_queue_metrics
from elysium.kit.metrics import render_metrics

router = APIRouter(tags=["operations"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/health/ready")
async def ready(request: Request) -> dict[str, str]:
    """The database answers; 503 otherwise."""
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailableError("The database is not reachable.") from exc
    return {"status": "ok", "database": "ok"}


@router.get("/metrics", include_in_schema=False)
async def metrics(
    request: Request, session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """Prometheus exposition format, for the monitoring system only: with `METRICS_TOKEN` set
    it asks for `Authorization: Bearer <token>`; in production without a token it is not
    served here at all (use `METRICS_PORT`, a separate address)."""
    check_metrics_access(request.app.state.settings, authorization)
    await refresh_queue_metrics(session)
    refresh_pool_metrics(request.app.state.engine)
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)
