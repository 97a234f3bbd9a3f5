"""Wishlist alerts: a wished-for piece back in stock, or at a lower price.

A periodic job compares each wishlist entry's price and availability now with what was last
seen (kept on the entry) and tells the client once per change, in-app and by email as their
wishlist preferences allow. Rows are taken with SKIP LOCKED, and the new state is stored in the
same transaction as the notices, so two workers never send the same alert.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.catalog.service import is_live, price_now
from elysium.config import Settings
from elysium.inventory.service import available_for_products, in_stock
from elysium.kit.clock import utcnow
from elysium.models import ContactChannel, ContactTopic, Product, User, WishlistItem
from elysium.notifications.emails import send_email
from elysium.notifications.preferences import may_contact
from elysium.notifications.service import notify_user

ALERT_LIFETIME = timedelta(days=30)
BATCH = 500


@dataclass(frozen=True, slots=True)
class Seen:
    """A wished-for piece's price (pence) and availability at one moment."""

    price_pence: int
    available: bool


async def current_state(
    session: AsyncSession, product: Product, configuration: Mapping[str, Any] | None
) -> Seen | None:
    """The piece's price and availability now; None when it cannot be priced (withdrawn)."""
    if configuration is None:
        if not is_live(product):
            return None
        available = (await available_for_products(session, [product]))[product.id]
        return Seen(product.base_price_pence, available)
    outcome = price_now(product, configuration)
    if isinstance(outcome, str):
        return None
    return Seen(outcome.unit_price_pence, await in_stock(session, product, outcome.variant_key))


async def send_wishlist_alerts(
    session: AsyncSession, settings: Settings, after: uuid.UUID | None = None
) -> tuple[int, uuid.UUID | None]:
    """Alert clients whose wished-for pieces came back or got cheaper, for one batch of
    entries after `after` (by id); the alerts sent and where the next batch starts (None at
    the end)."""
    statement = (
        select(WishlistItem, Product, User)
        .join(Product, Product.id == WishlistItem.product_id)
        .join(User, User.id == WishlistItem.user_id)
        .where(User.deleted_at.is_(None))
        .order_by(WishlistItem.id)
        .limit(BATCH)
        .with_for_update(of=WishlistItem, skip_locked=True)
    )
    if after is not None:
        statement = statement.where(WishlistItem.id > after)
    rows = list((await session.execute(statement)).tuples())
    sent = 0
    for item, product, user in rows:
        now = await current_state(session, product, item.configuration)
        if now is None:
            continue
        before = (item.seen_available, item.seen_price_pence)
        item.seen_available, item.seen_price_pence = now.available, now.price_pence
        if before[0] is False and now.available:
            await _alert(session, settings, user, item, product, now, "wishlist_back_in_stock")
            sent += 1
        if before[1] is not None and now.price_pence < before[1]:
            await _alert(
                session, settings, user, item, product, now, "wishlist_price_drop", before[1]
            )
            sent += 1
    await session.flush()
    return sent, rows[-1][0].id if len(rows) == BATCH else None


async def _alert(
    session: AsyncSession,
    settings: Settings,
    user: User,
    item: WishlistItem,
    product: Product,
    now: Seen,
    template: str,
    previous_price: int | None = None,
) -> None:
    moment = utcnow()
    url = f"{settings.public_base_url.rstrip('/')}/products/{product.slug}"
    restock = template == "wishlist_back_in_stock"
    if await may_contact(session, user.id, ContactTopic.WISHLIST, ContactChannel.IN_APP):
        await notify_user(
            session,
            user.id,
            template,
            f"{product.title} is available again" if restock else f"{product.title} costs less",
            "A piece on your wishlist is available again."
            if restock
            else "A piece on your wishlist is now offered at a lower price.",
            {"product_slug": product.slug, "price_pence": now.price_pence},
            expires_at=moment + ALERT_LIFETIME,
        )
    if await may_contact(session, user.id, ContactTopic.WISHLIST, ContactChannel.EMAIL):
        context: dict[str, object] = {
            "customer_name": user.name or "Client",
            "product_title": product.title,
            "price": now.price_pence,
            "currency": product.currency,
            "product_url": url,
            "preferences_url": f"{settings.public_base_url.rstrip('/')}/account/preferences",
        }
        if previous_price is not None:
            context["previous_price"] = previous_price
        await send_email(
            session,
            to=user.email,
            template=template,
            context=context,
            idempotency_key=f"{template.replace('_', '-')}:{item.id}:{moment.isoformat()}",
        )
