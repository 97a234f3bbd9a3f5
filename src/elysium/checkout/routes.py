"""Checkout (contract: "Checkout, orders, payments")."""

from __future__ import annotations

from fastapi import APIRouter, status

from elysium.accounts.deps import CurrentUser
from elysium.checkout import service
from elysium.checkout.schemas import CheckoutRequest, CheckoutResponse
from elysium.db import SessionDep
from elysium.idempotency import IdempotencyKeyHeader
from elysium.kit.deps import SettingsDep
from elysium.payments.deps import GatewayDep

router = APIRouter(tags=["checkout and orders"])


@router.post(
    "/api/checkout",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Out of stock, or the key was used for another request"}},
)
async def checkout(
    body: CheckoutRequest,
    idempotency_key: IdempotencyKeyHeader,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    gateway: GatewayDep,
) -> CheckoutResponse:
    """Place an order from your cart: priced on the server, stock reserved, cart emptied.

    Requires an `Idempotency-Key` header: the same key and body replay the first answer (the
    same order); the same key with another body is 409. 409 when any line is out of stock
    (the problem lists them; nothing is reserved), 422 for an empty cart, 404 for an address
    that is not in your address book. The payment is started once the order is safely
    stored: `payment.client_secret` for Stripe.js, or bank transfer `instructions`. If the
    provider cannot be reached the order stays PENDING and `payment.retry_url` says where to
    try again.
    """
    return await service.checkout(session, settings, gateway, user, body, idempotency_key)
