"""Saved cards: the client's customer at the provider (made once), cards saved through a
SetupIntent and recorded when the provider reports them, listed, removed, made the default.

Only the provider's references (and what the client needs to recognise a card) are stored.
The provider is always asked before the row changes, never while a row lock is held.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.errors import NotFoundError
from elysium.models import BillingCustomer, SavedCard, User
from elysium.payments.billing import BillingGateway, CardDetails, CardSetup
from elysium.payments.service import SavedCardCharge
from elysium.subscriptions.schemas import CardSetupRead, SavedCardRead


async def customer_id_of(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(BillingCustomer.provider_customer_id).where(BillingCustomer.user_id == user_id)
    )


async def ensure_customer(session: AsyncSession, gateway: BillingGateway, user: User) -> str:
    """The client's customer id, created at the provider the first time (one key per user, so
    two concurrent first calls make one customer; the insert keeps the first row)."""
    known = await customer_id_of(session, user.id)
    if known is not None:
        return known
    created = await gateway.create_customer(user.id, user.email, f"customer-{user.id}")
    await session.execute(
        insert(BillingCustomer)
        .values(user_id=user.id, provider=gateway.provider, provider_customer_id=created)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    found = await customer_id_of(session, user.id)
    assert found is not None
    return found


async def start_card_setup(
    session: AsyncSession, gateway: BillingGateway, user: User
) -> CardSetupRead:
    """A SetupIntent for the browser to confirm; the card is saved when the provider says so."""
    customer_id = await ensure_customer(session, gateway, user)
    setup: CardSetup = await gateway.start_card_setup(customer_id, user.id)
    return CardSetupRead(setup_intent_id=setup.setup_id, client_secret=setup.client_secret)


async def list_cards(session: AsyncSession, user: User) -> list[SavedCardRead]:
    cards = await session.scalars(
        select(SavedCard).where(SavedCard.user_id == user.id).order_by(SavedCard.created_at)
    )
    return [SavedCardRead.model_validate(card) for card in cards]


async def own_card(session: AsyncSession, user_id: uuid.UUID, card_id: uuid.UUID) -> SavedCard:
    """One of the client's saved cards; 404 for anyone else's (or none)."""
    card = await session.scalar(
        select(SavedCard).where(SavedCard.id == card_id, SavedCard.user_id == user_id)
    )
    if card is None:
        raise NotFoundError("No such saved card.")
    return card


async def remove_card(
    session: AsyncSession, gateway: BillingGateway, user: User, card_id: uuid.UUID
) -> None:
    """Detach the card at the provider, then forget it."""
    card = await own_card(session, user.id, card_id)
    await gateway.detach_card(card.provider_payment_method_id)
    await session.execute(delete(SavedCard).where(SavedCard.id == card.id))


async def make_default(
    session: AsyncSession, gateway: BillingGateway, user: User, card_id: uuid.UUID
) -> SavedCardRead:
    """The card invoices are charged to, at the provider and here."""
    card = await own_card(session, user.id, card_id)
    customer_id = await customer_id_of(session, user.id)
    if customer_id is None:  # a card is only recorded for a known customer
        raise NotFoundError("No such saved card.")
    await gateway.set_default_card(customer_id, card.provider_payment_method_id)
    await _mark_default(session, user.id, card.id)
    await session.refresh(card)
    return SavedCardRead.model_validate(card)


async def _mark_default(session: AsyncSession, user_id: uuid.UUID, card_id: uuid.UUID) -> None:
    """One default per client: the client's cards are locked (after any provider call) so two
    concurrent choices queue rather than collide on the unique index."""
    await session.execute(
        select(SavedCard.id)
        .where(SavedCard.user_id == user_id)
        .order_by(SavedCard.id)
        .with_for_update()
    )
    await session.execute(
        update(SavedCard)
        .where(SavedCard.user_id == user_id, SavedCard.is_default, SavedCard.id != card_id)
        .values(is_default=False)
    )
    await session.execute(update(SavedCard).where(SavedCard.id == card_id).values(is_default=True))


async def charge_for(session: AsyncSession, user: User, card_id: uuid.UUID) -> SavedCardCharge:
    """What paying with one of the client's saved cards needs; 404 for another's card."""
    card = await own_card(session, user.id, card_id)
    customer_id = await customer_id_of(session, user.id)
    if customer_id is None:
        raise NotFoundError("No such saved card.")
    return SavedCardCharge(customer_id, card.provider_payment_method_id)


# --- what the provider reported (applied by the billing-event job) ---------------------------


async def _user_of_customer(session: AsyncSession, customer_id: str | None) -> uuid.UUID | None:
    if customer_id is None:
        return None
    return await session.scalar(
        select(BillingCustomer.user_id).where(BillingCustomer.provider_customer_id == customer_id)
    )


async def record_card(session: AsyncSession, provider: str, card: CardDetails) -> bool:
    """Save (or refresh the expiry of) a card attached to a known client; False when the
    customer is not one of ours."""
    user_id = await _user_of_customer(session, card.customer_id)
    if user_id is None:
        return False
    values = {
        "brand": card.brand,
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
    }
    await session.execute(
        insert(SavedCard)
        .values(
            id=uuid.uuid4(),
            user_id=user_id,
            provider=provider,
            provider_payment_method_id=card.payment_method_id,
            **values,
        )
        .on_conflict_do_update(index_elements=["provider_payment_method_id"], set_=values)
    )
    return True


async def forget_card(session: AsyncSession, payment_method_id: str) -> None:
    """The card was detached at the provider (here, or in its dashboard)."""
    await session.execute(
        delete(SavedCard).where(SavedCard.provider_payment_method_id == payment_method_id)
    )


async def mark_default_by_reference(
    session: AsyncSession, user_id: uuid.UUID, payment_method_id: str
) -> None:
    """The card a new subscription is charged to became the customer's default."""
    card_id = await session.scalar(
        select(SavedCard.id).where(
            SavedCard.user_id == user_id,
            SavedCard.provider_payment_method_id == payment_method_id,
        )
    )
    if card_id is not None:
        await _mark_default(session, user_id, card_id)
