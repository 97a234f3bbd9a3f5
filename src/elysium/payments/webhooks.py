"""Provider webhooks: verified, then stored once (`ON CONFLICT DO NOTHING` on the unique
`(source, external_id)`). Applying an event is the orders domain's job, run by a job queued
in the same transaction as the row, so a crash after the answer never loses an event.

A duplicate delivery finds the event already stored; concurrent duplicates wait on the
unique index until the first delivery's transaction ends.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.kit.clock import utcnow
from elysium.models import PaymentEvent
from elysium.payments.gateway import GatewayEvent, PaymentGateway


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A verified event; `row_id` is None when it had been stored before (a duplicate)."""

    event: GatewayEvent
    row_id: uuid.UUID | None


async def store_once(
    session: AsyncSession, gateway: PaymentGateway, payload: bytes, signature: str | None
) -> StoredEvent:
    """Verify the delivery (400 when the signature is wrong, nothing stored) and store it once."""
    event = gateway.parse_webhook(payload, signature)
    statement = (
        insert(PaymentEvent)
        .values(
            id=uuid.uuid4(),
            source=gateway.provider,
            external_id=event.id,
            type=event.type,
            payload=event.raw,
        )
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(PaymentEvent.id)
    )
    row_id = (await session.execute(statement)).scalar_one_or_none()
    return StoredEvent(event, row_id)


async def claim_unprocessed(session: AsyncSession, row_id: uuid.UUID) -> bool:
    """Lock a stored event for applying it; False when it is unknown or already applied."""
    row = (
        await session.execute(
            select(PaymentEvent.processed_at).where(PaymentEvent.id == row_id).with_for_update()
        )
    ).first()
    return row is not None and row.processed_at is None


async def mark_processed(session: AsyncSession, row_id: uuid.UUID) -> None:
    await session.execute(
        update(PaymentEvent).where(PaymentEvent.id == row_id).values(processed_at=utcnow())
    )


def event_args(event: GatewayEvent) -> dict[str, Any]:
    """The event as JSON job arguments (without the raw payload, which the row keeps)."""
    return {k: v for k, v in asdict(event).items() if k != "raw"}


def event_from_args(args: dict[str, Any]) -> GatewayEvent:
    return GatewayEvent(**args)


async def stored_payload(session: AsyncSession, row_id: uuid.UUID) -> dict[str, Any] | None:
    """The event as it was received (read without a lock)."""
    return await session.scalar(select(PaymentEvent.payload).where(PaymentEvent.id == row_id))
