"""Checkout (contract: "Checkout, orders, payments")."""

from __future__ import annotations

from fastapi import APIRouter, status

from elysium.accounts.deps import CurrentUser
from elysium.checkout.idempotency import IdempotencyKeyHeader
from elysium.checkout.schemas import CheckoutRequest, CheckoutResponse
from elysium.checkout.service.place_order import place_order
from elysium.db import SessionDep
from elysium.kit.deps import SettingsDep
from elysium.payments.deps import GatewayDep
from elysium.payments.service import calls_provider, provider_of, start_payment

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
    placed = await place_order(
        session, settings, user, body, idempotency_key, provider=provider_of(gateway)
    )
    if calls_provider(gateway):
        await session.commit()  # the order exists before any payment provider is called
    payment = await start_payment(session, gateway, placed.order, user.email)
    return CheckoutResponse(order=placed.view, payment=payment)
