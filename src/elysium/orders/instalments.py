"""Staff record money received by bank transfer for what an order has due: its total, or an
instalment of a bespoke commission (the deposit, then the balance). Idempotent per reference:
the same transfer recorded twice is recorded once."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.errors import ConflictError, ValidationFailedError
from elysium.kit.money import Money
from elysium.models import User
from elysium.models.payment import PaymentState
from elysium.orders.history import actor_label, lock_order
from elysium.orders.read import read_order
from elysium.orders.schedule import amount_due, instalment_name
from elysium.orders.schemas import InstalmentCreate, OrderRead
from elysium.orders.settle import settle_payment
from elysium.payments.refunds import payment_by_provider_id
from elysium.payments.service import BANK_TRANSFER, bank_reference


def _provider_id(order_number: str, reference: str) -> str:
    return f"{bank_reference(order_number)}:{reference}"


async def record_instalment(
    session: AsyncSession,
    settings: Settings,
    staff: User,
    order_id: uuid.UUID,
    data: InstalmentCreate,
) -> OrderRead:
    """A bank transfer received (staff; audited): 409 when nothing is due, 422 when the amount
    is not the instalment due. The same reference again changes nothing."""
    order = await lock_order(session, order_id)
    provider_id = _provider_id(order.order_number, data.reference)
    known = await payment_by_provider_id(session, provider_id)
    if known is not None and known.status == PaymentState.SUCCEEDED:
        return await read_order(session, order)
    due, name = amount_due(order), instalment_name(order)
    if due == 0:
        raise ConflictError(
            f"This order is {order.status} and {order.payment_status}: nothing is due."
        )
    if data.amount.currency != order.currency or data.amount.to_pence() != due:
        expected = Money.from_pence(due, order.currency)
        message = f"The {name} due is {expected.amount} {expected.currency}."
        raise ValidationFailedError(message, errors=[{"field": "amount", "message": message}])
    await settle_payment(
        session,
        settings,
        order_id=order.id,
        provider=BANK_TRANSFER,
        provider_payment_id=provider_id,
        amount_pence=due,
        by=actor_label(staff),
        actor_id=staff.id,
        note=f"Bank transfer {data.reference} ({name})",
    )
    await record_event(
        session,
        "order.instalment_recorded",
        actor_id=staff.id,
        target_type="order",
        target_id=order.id,
        details={"instalment": name, "amount_pence": due, "reference": data.reference},
    )
    return await read_order(session, order)
