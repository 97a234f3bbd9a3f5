"""Payment provider webhooks (contract: "Checkout, orders, payments" and "Payments")."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request

from elysium.db import SessionDep
from elysium.orders.history import PROVIDER
from elysium.payments.deps import GatewayDep
from elysium.payments.refunds import pay_out_quietly
from elysium.payments.webhooks import receive_webhook

router = APIRouter(tags=["payments"])


@router.post("/api/webhooks/stripe")
async def stripe_webhook(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    stripe_signature: str | None = Header(default=None, alias="Stripe-Signature"),
) -> dict[str, bool]:
    """Stripe events, verified with the `Stripe-Signature` header (400 when it is wrong).

    Each event is applied once: a repeat answers 200 and changes nothing. A payment that
    succeeds for an order that was cancelled or expired is refunded automatically.
    """
    outcome = await receive_webhook(session, gateway, await request.body(), stripe_signature)
    await session.commit()
    await pay_out_quietly(session, gateway, outcome.refund_id, by=PROVIDER)
    return {"received": True, "duplicate": outcome.duplicate}
