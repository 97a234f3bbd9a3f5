"""Forgotten carts: one reminder per cart state to a signed-in client with marketing consent
whose cart has not changed for a day, never once they have ordered those pieces (since adding
them to the cart, or in the last 30 days).

`cart_reminders` holds one row per (cart, state) reminded, so the same state is never reminded
twice; a changed cart is a new state. Carts are taken with SKIP LOCKED and the row and the email
are written in one transaction, so two workers never send the same reminder.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.cart import service as carts
from elysium.config import Settings
from elysium.kit.clock import utcnow
from elysium.models import CartReminder, ContactChannel, ContactTopic, User
from elysium.notifications.emails import send_email
from elysium.notifications.preferences import may_contact, unsubscribe_url
from elysium.orders import read as orders

BATCH = 200
ORDER_LOOKBACK = timedelta(days=30)


def cart_state(cart: carts.ForgottenCart) -> str:
    """A fingerprint of what is in the cart (pieces, configurations, quantities)."""
    lines = sorted(
        json.dumps([str(line.product_id), line.configuration, line.quantity], sort_keys=True)
        for line in cart.lines
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


async def send_cart_reminders(
    session: AsyncSession, settings: Settings, after: tuple[datetime, uuid.UUID] | None = None
) -> tuple[int, tuple[datetime, uuid.UUID] | None]:
    """Remind clients of carts unchanged for CART_REMINDER_AFTER_HOURS, one batch after
    `after`; the reminders sent and where the next batch starts (None at the end)."""
    cutoff = utcnow() - timedelta(hours=settings.cart_reminder_after_hours)
    batch = await carts.forgotten_carts(session, cutoff, BATCH, after)
    sent = 0
    for cart in batch:
        if await _remind(session, settings, cart):
            sent += 1
    last = batch[-1] if len(batch) == BATCH else None
    return sent, None if last is None else (last.updated_at, last.cart_id)


async def _remind(session: AsyncSession, settings: Settings, cart: carts.ForgottenCart) -> bool:
    user = await session.get(User, cart.user_id)
    if user is None or user.deleted_at is not None:
        return False
    if not await may_contact(session, user.id, ContactTopic.MARKETING, ContactChannel.EMAIL):
        return False
    since = min(min(line.added_at for line in cart.lines), utcnow() - ORDER_LOOKBACK)
    pieces = [line.product_id for line in cart.lines]
    if await orders.ordered_since(session, user.id, pieces, since):
        return False  # they ordered these pieces (since adding them, or lately)
    state = cart_state(cart)
    recorded = await session.scalar(
        insert(CartReminder)
        .values(cart_id=cart.cart_id, state_hash=state)
        .on_conflict_do_nothing(constraint="uq_cart_reminders_state")
        .returning(CartReminder.id)
    )
    if recorded is None:
        return False  # this state was reminded before
    base = settings.public_base_url.rstrip("/")
    await send_email(
        session,
        to=user.email,
        template="cart_reminder",
        context={
            "customer_name": user.name or "Client",
            "items": [{"title": line.title, "quantity": line.quantity} for line in cart.lines],
            "cart_url": f"{base}/cart",
            "unsubscribe_url": unsubscribe_url(settings, user.id, ContactTopic.MARKETING),
        },
        idempotency_key=f"cart-reminder:{cart.cart_id}:{state}",
    )
    return True
