"""Checkout: the customer's cart becomes an order, and its payment is started.

Two phases in one use case, because the customer needs the provider's answer (a client
secret for Stripe.js) and the provider must never be called before the order is stored:

1. place the order (`orders.place`): priced, stock reserved, cart emptied, key answered;
   committed here when a provider is to be called;
2. start its payment (`orders.pay`), with no lock held. Bank transfers need no provider, so
   their payment row is written in the order's own transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.checkout.schemas import CheckoutResponse
from elysium.config import Settings
from elysium.kit.metrics import CHECKOUTS
from elysium.models import User
from elysium.orders import pay, place
from elysium.orders.schemas import CheckoutRequest
from elysium.payments.gateway import PaymentGateway
from elysium.subscriptions import wallet


async def checkout(
    session: AsyncSession,
    settings: Settings,
    gateway: PaymentGateway,
    user: User,
    request: CheckoutRequest,
    idempotency_key: str,
) -> CheckoutResponse:
    """Place the order from the user's cart, then start its payment (with a saved card when
    one is named: 404 for one that is not the user's, checked before anything is written)."""
    saved_card = None
    if request.payment_method_id is not None:
        saved_card = await wallet.charge_for(session, user, request.payment_method_id)
    placed = await place.place_order(
        session, settings, user, request, idempotency_key, provider=gateway.provider
    )
    CHECKOUTS.labels(gateway.provider).inc()
    if gateway.calls_provider:
        await session.commit()  # the order exists before any payment provider is called
    payment = await pay.start_order_payment(session, gateway, placed, user.email, saved_card)
    return CheckoutResponse(order=placed.view, payment=payment)
