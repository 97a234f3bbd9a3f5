"""Placing an order: one transaction from the priced cart to a PENDING order holding its stock.

Nothing the browser says about prices is used: the cart is priced again here, shipping comes
from the settings and the addresses from the customer's own address book. The payment is
started by the caller (`checkout.service`) once this transaction has committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.accounts.profile import get_address
from elysium.cart.service import CartSnapshot, SnapshotLine, checkout_snapshot, empty_cart
from elysium.config import Settings
from elysium.db import insert_new
from elysium.errors import NotFoundError
from elysium.idempotency import claim_key, request_fingerprint, save_answer
from elysium.inventory.service import ReservationLine, reserve
from elysium.kit.clock import utcnow
from elysium.kit.vat import charged, rate_percent, treatment_for
from elysium.models import Address, Order, OrderItem, User
from elysium.models.inventory import ReservationOwner
from elysium.models.order import OrderPaymentStatus, OrderStatus, order_number_seq
from elysium.orders import events
from elysium.orders.history import actor_label, history_entry
from elysium.orders.read import order_read
from elysium.orders.schemas import CheckoutRequest, OrderRead, StatusChangeRead
from elysium.orders.state import PENDING
from elysium.orders.totals import OrderTotals, order_totals
from elysium.payments.service import BANK_TRANSFER
from elysium.promotions.service import redeem_coupon
from elysium.shipping.service import ShippingOption, choose_shipping

CREATED = 201


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """A placed order as a frozen read model, the same whether fresh or replayed: what paying
    it needs, and the answer to give (the first answer again for a replayed key). Nothing
    here can be changed; an order changes only through the use cases that lock it."""

    id: uuid.UUID
    order_number: str
    status: OrderStatus
    payment_status: OrderPaymentStatus
    payment_provider: str
    total_pence: int
    currency: str
    deposit_pence: int | None
    view: OrderRead
    replayed: bool

    @classmethod
    def of(cls, order: Order, view: OrderRead, *, replayed: bool) -> PlacedOrder:
        return cls(
            id=order.id,
            order_number=order.order_number,
            status=order.status,
            payment_status=order.payment_status,
            payment_provider=order.payment_provider,
            total_pence=order.total_pence,
            currency=order.currency,
            deposit_pence=order.deposit_pence,
            view=view,
            replayed=replayed,
        )


def reservation_window(settings: Settings, provider: str) -> timedelta:
    """How long an unpaid order holds its stock: short for cards, days for bank transfers."""
    if provider == BANK_TRANSFER:
        return timedelta(hours=settings.bank_transfer_reservation_hours)
    return timedelta(minutes=settings.card_reservation_minutes)


_NEXT_NUMBER = select(order_number_seq.next_value())


async def next_order_number(session: AsyncSession, when: datetime) -> str:
    """`ELY-<year>-<6 digits>` from a PostgreSQL sequence: unique, never reused."""
    number = await session.scalar(_NEXT_NUMBER)
    return f"ELY-{when.year}-{number:06d}"


def address_copy(address: Address) -> dict[str, Any]:
    """The address as the order keeps it, unaffected by later address-book edits."""
    return {
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
    }


async def _addresses(
    session: AsyncSession, user: User, request: CheckoutRequest
) -> tuple[Address, Address]:
    shipping = await get_address(session, user, request.shipping_address_id)
    if request.billing_address_id == request.shipping_address_id:
        return shipping, shipping
    return shipping, await get_address(session, user, request.billing_address_id)


def _order_lines(order: Order, lines: list[SnapshotLine]) -> list[OrderItem]:
    return [
        OrderItem(
            id=uuid.uuid4(),
            order_id=order.id,
            position=position,
            product_id=line.product_id,
            product_slug=line.product_slug,
            title=line.title,
            collection_slug=line.collection_slug,
            configuration=line.configuration,
            variant_key=line.variant_key,
            quantity=line.quantity,
            unit_price_pence=line.unit_price_pence,
            line_total_pence=line.line_total_pence,
            made_to_order=line.made_to_order,
        )
        for position, line in enumerate(lines)
    ]


@dataclass(frozen=True, slots=True)
class _Draft:
    snapshot: CartSnapshot
    totals: OrderTotals
    shipping: ShippingOption
    shipping_address: Address
    billing_address: Address
    gift_message: str | None


async def _draft(
    session: AsyncSession, settings: Settings, user: User, request: CheckoutRequest
) -> _Draft:
    shipping_address, billing_address = await _addresses(session, user, request)
    treatment = treatment_for(shipping_address.country)
    snapshot = await checkout_snapshot(session, user.id, treatment)
    option = choose_shipping(settings, request.shipping_method, shipping_address.country)
    discount = snapshot.discount.discount_pence if snapshot.discount else 0
    shipping = charged(option.price_pence, treatment)
    totals = order_totals(snapshot.subtotal_pence, discount, shipping, treatment)
    return _Draft(snapshot, totals, option, shipping_address, billing_address, request.gift_message)


async def _new_order(
    session: AsyncSession, settings: Settings, user: User, draft: _Draft, provider: str
) -> Order:
    now = utcnow()
    totals, snapshot = draft.totals, draft.snapshot
    return Order(
        id=uuid.uuid4(),
        order_number=await next_order_number(session, now),
        user_id=user.id,
        status=PENDING,
        payment_status=OrderPaymentStatus.UNPAID,
        payment_provider=provider,
        currency="GBP",
        subtotal_pence=totals.subtotal_pence,
        discount_pence=totals.discount_pence,
        shipping_pence=totals.shipping_pence,
        vat_pence=totals.vat_pence,
        total_pence=totals.total_pence,
        vat_treatment=snapshot.treatment,
        vat_rate_percent=rate_percent(snapshot.treatment),
        gift_message=draft.gift_message,
        coupon_id=snapshot.discount.coupon_id if snapshot.discount else None,
        coupon_code=snapshot.discount.code if snapshot.discount else None,
        shipping_method=draft.shipping.method,
        shipping_address=address_copy(draft.shipping_address),
        billing_address=address_copy(draft.billing_address),
        reservation_expires_at=now + reservation_window(settings, provider),
        created_at=now,
        updated_at=now,
    )


async def _hold_stock(
    session: AsyncSession, user: User, order: Order, items: list[OrderItem]
) -> None:
    """All lines or none: 409 listing the short lines (the whole transaction rolls back)."""
    lines = [
        ReservationLine(i.product_id, i.variant_key, i.quantity, i.product_slug)
        for i in items
        if not i.made_to_order and i.product_id is not None
    ]
    if lines:
        await reserve(
            session,
            lines,
            owner_type=ReservationOwner.ORDER,
            owner_id=order.id,
            expires_at=order.reservation_expires_at,
            actor_id=user.id,
            reason=f"order {order.order_number}",
        )


async def _replay(session: AsyncSession, body: dict[str, Any]) -> PlacedOrder:
    view = OrderRead.model_validate(body["order"])
    order = await session.get(Order, view.id)
    if order is None:
        raise NotFoundError("The order this key created no longer exists.")
    return PlacedOrder.of(order, view, replayed=True)


async def place_order(
    session: AsyncSession,
    settings: Settings,
    user: User,
    request: CheckoutRequest,
    idempotency_key: str,
    *,
    provider: str,
) -> PlacedOrder:
    """Turn the user's cart into a PENDING order that holds its stock; the caller commits.

    422 empty cart or an address/shipping mismatch, 404 an address that is not the user's,
    409 out of stock (listing the lines; nothing held), 409 a key reused for another request.
    Stock is reserved last so the stock rows stay locked for as short a time as possible.
    """
    fingerprint = request_fingerprint("checkout", request.model_dump(mode="json"))
    claim = await claim_key(session, user.id, idempotency_key, fingerprint)
    if claim.stored is not None:
        return await _replay(session, claim.stored.body)
    assert claim.row_id is not None
    draft = await _draft(session, settings, user, request)
    order = await _new_order(session, settings, user, draft, provider)
    items = _order_lines(order, draft.snapshot.lines)
    placed = history_entry(
        order, by=actor_label(user), actor_id=user.id, note="Order placed", at=order.created_at
    )
    await insert_new(session, order, *items, placed)
    if draft.snapshot.discount is not None:
        await redeem_coupon(
            session, draft.snapshot.discount.coupon_id, user_id=user.id, order_id=order.id
        )
    await empty_cart(session, draft.snapshot.cart_id)
    await events.order_placed(session, settings, user, order)
    history = [
        StatusChangeRead(
            status=PENDING, at=order.created_at, by=actor_label(user), note="Order placed"
        )
    ]
    view = order_read(order, items, history, payment=None)
    await save_answer(session, claim.row_id, CREATED, {"order": view.model_dump(mode="json")})
    await _hold_stock(session, user, order, items)
    return PlacedOrder.of(order, view, replayed=False)
