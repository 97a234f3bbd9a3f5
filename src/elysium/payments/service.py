"""Taking payments: the gateway from the settings, starting a payment after the order commits,
and the one idempotent `finalize_payment` that every confirmation path goes through.

Lock order everywhere: the order row first, then (inside inventory) the stock rows.
The provider is never called inside a transaction that holds a lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.db import table_of
from elysium.inventory.service import convert_to_sale, release
from elysium.kit.clock import utcnow
from elysium.models import Order, Payment
from elysium.orders import events
from elysium.orders.history import (
    PROVIDER,
    lock_order,
    move_order,
    order_customer,
    order_items,
)
from elysium.orders.schemas import PaymentRead
from elysium.orders.state import CANCELLED, PAID, PAYMENT_FAILED, UNPAID
from elysium.payments.gateway import (
    BankTransferGateway,
    PaymentGateway,
    PaymentIntentResult,
    PaymentProviderError,
)
from elysium.payments.refunds import open_refund
from elysium.promotions.service import release_coupon

log = structlog.get_logger(__name__)

BANK_TRANSFER = "bank_transfer"
MANUAL = "manual"
OPEN_PAYMENT_STATES = ("pending", "processing", "failed")


def get_gateway(settings: Settings) -> PaymentGateway:
    """The gateway `PAYMENT_PROVIDER` names, configured from the settings."""
    if settings.payment_provider == "stripe":
        from elysium.payments.stripe_gateway import StripeGateway

        if settings.stripe_secret_key is None or settings.stripe_webhook_secret is None:
            raise ValueError(
                "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"
            )
        return StripeGateway(
            settings.stripe_secret_key.get_secret_value(),
            settings.stripe_webhook_secret.get_secret_value(),
            settings.stripe_api_base,
        )
    return BankTransferGateway(
        {
            "account_name": settings.bank_account_name,
            "sort_code": settings.bank_sort_code,
            "account_number": settings.bank_account_number,
            "iban": settings.bank_iban,
            "bic": settings.bank_bic,
        }
    )


def provider_of(gateway: PaymentGateway) -> str:
    """The provider name a gateway answers for (`stripe`, `bank_transfer`)."""
    return str(getattr(gateway, "provider", BANK_TRANSFER))


def calls_provider(gateway: PaymentGateway) -> bool:
    """Whether starting a payment goes out to a provider (bank transfers stay in-house, so
    their payment row can be written in the order's own transaction)."""
    return provider_of(gateway) != BANK_TRANSFER


def bank_reference(order: Order) -> str:
    """The provider id of a bank transfer payment: the order number is the reference."""
    return f"bank:{order.order_number}"


# --- starting a payment (after the order has committed) -------------------------------------


async def _open_payment(session: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    return await session.scalar(
        select(Payment)
        .where(Payment.order_id == order_id, Payment.status.in_(OPEN_PAYMENT_STATES))
        .order_by(Payment.created_at.desc())
        .limit(1)
    )


async def _attempts(session: AsyncSession, order_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Payment).where(Payment.order_id == order_id)
    )
    return int(count or 0)


async def _ask_gateway(
    session: AsyncSession,
    gateway: PaymentGateway,
    order: Order,
    existing: Payment | None,
    email: str,
) -> PaymentIntentResult:
    """The open payment as the provider has it, or a new one (a failed card attempt is
    cancelled and replaced, so an old client secret can never pay a second time)."""
    card = existing is not None and existing.provider not in (BANK_TRANSFER, MANUAL)
    if card and existing is not None and existing.status != "failed":
        return await gateway.retrieve_payment(existing.provider_payment_id)
    if card and existing is not None:
        await gateway.cancel_payment(existing.provider_payment_id)
        existing.status = "cancelled"
    return await gateway.create_payment(
        order.id,
        order.order_number,
        order.total_pence,
        order.currency,
        email,
        idempotency_key=f"order-{order.id}-payment-{await _attempts(session, order.id)}",
    )


_NEW_PAYMENT = insert(table_of(Payment)).on_conflict_do_nothing(
    index_elements=["provider_payment_id"]
)


async def _record_payment(session: AsyncSession, order: Order, result: PaymentIntentResult) -> None:
    """Remember the payment; a webhook that got here first already wrote it, and wins."""
    row = {
        "id": uuid.uuid4(),
        "order_id": order.id,
        "provider": result.provider,
        "provider_payment_id": result.intent_id or bank_reference(order),
        "amount_pence": result.amount_pence,
        "currency": result.currency,
        "status": "pending",
    }
    await session.execute(_NEW_PAYMENT, row)


def payment_read(result: PaymentIntentResult) -> PaymentRead:
    """What the storefront needs from a gateway's answer."""
    return PaymentRead(
        provider=result.provider,
        status=str(result.status),
        client_secret=result.client_secret,
        payment_intent_id=result.intent_id,
        redirect_url=result.redirect_url,
        instructions=result.instructions,
    )


async def _start_bank_transfer(
    session: AsyncSession, gateway: PaymentGateway, order: Order, email: str
) -> PaymentRead:
    """Instructions need no provider call, and the payment's id is the order number:
    one idempotent insert."""
    result = await gateway.create_payment(
        order.id,
        order.order_number,
        order.total_pence,
        order.currency,
        email,
        idempotency_key=f"order-{order.id}-payment",
    )
    await _record_payment(session, order, result)
    return payment_read(result)


async def start_payment(
    session: AsyncSession, gateway: PaymentGateway, order: Order, customer_email: str
) -> PaymentRead:
    """Create (or look up again) the payment of an unpaid order; call after the order commits
    when `calls_provider(gateway)`.

    No lock is held while the provider is asked. When the provider cannot be reached the order
    stays PENDING and the answer says where to retry; nothing is lost.
    """
    if order.status not in UNPAID:
        return PaymentRead(provider=order.payment_provider, status=order.payment_status)
    if not calls_provider(gateway):
        return await _start_bank_transfer(session, gateway, order, customer_email)
    existing = await _open_payment(session, order.id)
    try:
        result = await _ask_gateway(session, gateway, order, existing, customer_email)
    except PaymentProviderError as exc:
        log.warning("payment_start_failed", order_id=str(order.id), error=exc.detail)
        return PaymentRead(
            provider=provider_of(gateway),
            status="unavailable",
            retry_url=f"/api/orders/{order.id}/pay",
        )
    if existing is None or existing.status == "cancelled":
        await _record_payment(session, order, result)
    return payment_read(result)


# --- settling ----------------------------------------------------------------------------------


class Settlement(StrEnum):
    PAID = "paid"
    ALREADY_SETTLED = "already_settled"
    REFUND_DUE = "refund_due"  # money arrived for an order that cannot take it


@dataclass(frozen=True, slots=True)
class SettlementResult:
    outcome: Settlement
    refund_id: uuid.UUID | None = None


async def _settle_payment_row(
    session: AsyncSession,
    order: Order,
    provider: str,
    provider_payment_id: str,
    amount_pence: int,
) -> tuple[Payment, bool]:
    """Mark the payment succeeded (creating it if needed); True when it already was."""
    await session.execute(
        insert(table_of(Payment))
        .values(
            id=uuid.uuid4(),
            order_id=order.id,
            provider=provider,
            provider_payment_id=provider_payment_id,
            amount_pence=amount_pence,
            currency=order.currency,
            status="pending",
        )
        .on_conflict_do_nothing(index_elements=["provider_payment_id"])
    )
    payment = await session.scalar(
        select(Payment)
        .where(Payment.provider_payment_id == provider_payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert payment is not None
    already = payment.status == "succeeded"
    payment.status = "succeeded"
    payment.amount_pence = amount_pence
    return payment, already


async def _sell_reserved_stock(
    session: AsyncSession, order: Order, actor_id: uuid.UUID | None
) -> bool:
    """Turn the reservation into a sale; False (and nothing sold) when units have lapsed."""
    wanted = sum(i.quantity for i in await order_items(session, order.id) if not i.made_to_order)
    savepoint = await session.begin_nested()
    sold = await convert_to_sale(
        session, owner_type="order", owner_id=order.id, order_id=order.id, actor_id=actor_id
    )
    if sold >= wanted:
        await savepoint.commit()
        return True
    await savepoint.rollback()
    return False


async def _refund_due(
    session: AsyncSession, order: Order, payment: Payment, why: str
) -> SettlementResult:
    """Money that cannot be kept: set aside a full refund of it, audited, paid out after commit."""
    if order.payment_status in ("unpaid", "failed"):
        order.payment_status = "paid"
    refund = await open_refund(
        session,
        order,
        payment,
        amount_pence=payment.amount_pence,
        reason=why,
        idempotency_key=f"unclaimed:{payment.id}",
        actor_id=None,
    )
    await record_event(
        session,
        "payment.refund_due",
        actor_id=None,
        target_type="order",
        target_id=order.id,
        details={"payment_id": str(payment.id), "reason": why, "status": order.status},
    )
    log.warning("payment_refund_due", order_id=str(order.id), reason=why)
    return SettlementResult(Settlement.REFUND_DUE, refund.id)


async def _close_lapsed_order(session: AsyncSession, order: Order) -> None:
    await release(
        session, owner_type="order", owner_id=order.id, reason="reservation lapsed", actor_id=None
    )
    await release_coupon(session, order_id=order.id)
    order.cancelled_at = utcnow()
    await move_order(
        session, order, CANCELLED, by=PROVIDER, note="Paid after the reservation lapsed"
    )


async def finalize_payment(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    provider: str,
    provider_payment_id: str,
    amount_pence: int,
    by: str,
    actor_id: uuid.UUID | None = None,
    note: str | None = None,
) -> SettlementResult:
    """Record money received for an order: PAID, reservation -> sale, customer told. Idempotent.

    Used by the provider's webhook, staff confirming a bank transfer and any client-side
    confirmation. A repeat changes nothing. Money for a cancelled or lapsed order, a second
    payment of a paid order or a wrong amount is set aside for an automatic refund instead.
    """
    order = await lock_order(session, order_id)
    payment, already = await _settle_payment_row(
        session, order, provider, provider_payment_id, amount_pence
    )
    if already:
        return SettlementResult(Settlement.ALREADY_SETTLED)
    if order.status not in UNPAID:
        return await _refund_due(session, order, payment, f"payment for a {order.status} order")
    if amount_pence != order.total_pence:
        return await _refund_due(session, order, payment, "amount differs from the order total")
    if not await _sell_reserved_stock(session, order, actor_id):
        await _close_lapsed_order(session, order)
        return await _refund_due(session, order, payment, "reservation lapsed before payment")
    order.payment_status = "paid"
    order.paid_at = utcnow()
    await move_order(session, order, PAID, by=by, actor_id=actor_id, note=note)
    await events.order_paid(
        session, await order_customer(session, order), order, await order_items(session, order.id)
    )
    return SettlementResult(Settlement.PAID)


async def record_payment_failure(
    session: AsyncSession, *, order_id: uuid.UUID, provider_payment_id: str, reason: str | None
) -> None:
    """PAYMENT_FAILED for an unpaid order (stock stays held so the customer can retry).

    A failure reported after the order was paid or closed is only noted on the payment.
    """
    order = await lock_order(session, order_id)
    payment = await session.scalar(
        select(Payment).where(Payment.provider_payment_id == provider_payment_id).with_for_update()
    )
    if payment is not None and payment.status != "succeeded":
        payment.status = "failed"
        payment.failure_reason = (reason or "")[:500] or None
    if order.status not in UNPAID or order.status == PAYMENT_FAILED:
        return
    order.payment_status = "failed"
    await move_order(session, order, PAYMENT_FAILED, by=PROVIDER, note=reason)
    user = await order_customer(session, order)
    await events.payment_failed(session, user, order, reason, attempt=provider_payment_id)
