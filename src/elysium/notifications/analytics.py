"""Server-side Plausible events: purchases counted with revenue, without a browser script."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings, get_settings
from elysium.jobs import PermanentJobError, enqueue

SEND_PURCHASE_EVENT = "send_purchase_event"


async def track_purchase(
    session: AsyncSession,
    settings: Settings,
    order_id: uuid.UUID | str,
    revenue_pence: int,
    currency: str,
) -> None:
    """Queue a Plausible `Purchase` event in the caller's transaction (when PLAUSIBLE_DOMAIN
    is set); once per order."""
    if not settings.plausible_domain:
        return
    await enqueue(
        session,
        SEND_PURCHASE_EVENT,
        queue="analytics",
        queueing_lock=f"purchase:{order_id}",
        order_id=str(order_id),
        revenue_pence=revenue_pence,
        currency=currency,
    )


def purchase_event(
    domain: str, base_url: str, order_id: str, revenue_pence: int, currency: str
) -> dict[str, object]:
    """The body of Plausible's `POST /api/event` for one purchase."""
    whole, minor = divmod(revenue_pence, 100)
    return {
        "name": "Purchase",
        "domain": domain,
        "url": f"{base_url.rstrip('/')}/checkout/complete",
        "props": {"order_id": order_id},
        "revenue": {"currency": currency, "amount": f"{whole}.{minor:02d}"},
    }


async def send_purchase_event(order_id: str, revenue_pence: int, currency: str) -> None:
    """POST the event (the job's body); 5xx and network errors raise so the job retries."""
    settings = get_settings()
    if not settings.plausible_domain:
        return
    body = purchase_event(
        settings.plausible_domain, settings.public_base_url, order_id, revenue_pence, currency
    )
    headers = {"User-Agent": "ELYSIUM-server/1.0", "X-Forwarded-For": "127.0.0.1"}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{settings.plausible_api_base.rstrip('/')}/api/event", json=body, headers=headers
        )
    if response.status_code >= 500 or response.status_code == 429:
        response.raise_for_status()
    if response.is_error:
        raise PermanentJobError(f"Plausible refused the event: {response.status_code}")
