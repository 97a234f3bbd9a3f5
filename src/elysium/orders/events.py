"""What customers hear about their orders: emails and in-app notifications, queued in the
caller's transaction (so they go out only if it commits). The one place to rewire them.

Every function takes the settings from its caller (the request or the job), never a global.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.models import Order, OrderItem, User
from elysium.notifications.analytics import track_purchase
from elysium.notifications.emails import AttachmentRef, send_email
from elysium.notifications.service import notify_user
from elysium.orders.invoice import INVOICE_ATTACHMENT
from elysium.payments.service import BANK_TRANSFER, bank_details


def _order_url(settings: Settings, order: Order) -> str:
    return f"{settings.public_base_url}/account/orders/{order.id}"


async def _tell(
    session: AsyncSession,
    settings: Settings,
    user: User,
    order: Order,
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    key: str,
    attachments: tuple[AttachmentRef, ...] = (),
) -> None:
    base = {
        "customer_name": user.name or "Client",
        "order_number": order.order_number,
        "currency": order.currency,
        "order_url": _order_url(settings, order),
    }
    await send_email(
        session,
        to=user.email,
        template=template,
        context=base | context,
        idempotency_key=f"order:{order.id}:{key}",
        attachments=attachments,
    )
    await notify_user(
        session,
        user.id,
        f"order.{template}",
        title,
        f"Order {order.order_number}",
        {"order_id": str(order.id), "status": str(order.status)},
    )


async def order_placed(session: AsyncSession, settings: Settings, user: User, order: Order) -> None:
    """Bank transfer orders get the payment details; card orders hear once they are paid."""
    if order.payment_provider != BANK_TRANSFER:
        return
    context = {
        "pay_by": order.reservation_expires_at,
        "amount": order.total_pence,
        "bank": bank_details(settings),
    }
    await _tell(
        session,
        settings,
        user,
        order,
        "bank_transfer_instructions",
        context,
        title="Payment details for your order",
        key="instructions",
    )


def _lines(items: list[OrderItem]) -> list[dict[str, Any]]:
    return [
        {
            "title": item.title,
            "configuration": item.configuration,
            "quantity": item.quantity,
            "unit_price": item.unit_price_pence,
            "line_total": item.line_total_pence,
        }
        for item in items
    ]


async def order_paid(
    session: AsyncSession, settings: Settings, user: User, order: Order, items: list[OrderItem]
) -> None:
    """The order confirmation (the payment received), with every line, the VAT included and
    the VAT invoice attached; the purchase counted in the site's analytics (Plausible, when
    configured)."""
    context = {
        "lines": _lines(items),
        "subtotal": order.subtotal_pence,
        "discount": order.discount_pence,
        "coupon_code": order.coupon_code,
        "shipping": order.shipping_pence,
        "total": order.total_pence,
        "vat": order.vat_pence,
        "delivery_address": order.shipping_address,
    }
    invoice = (
        ()
        if order.invoice_number is None
        else (AttachmentRef(INVOICE_ATTACHMENT, {"order_id": str(order.id)}),)
    )
    await _tell(
        session,
        settings,
        user,
        order,
        "order_confirmation",
        context,
        title="Your order is confirmed",
        key="confirmation",
        attachments=invoice,
    )
    await track_purchase(session, settings, order.id, order.total_pence, order.currency)


async def instalment_received(
    session: AsyncSession, settings: Settings, user: User, order: Order, amount_pence: int
) -> None:
    """A deposit received: the piece goes into production; the balance is due before delivery."""
    await _tell(
        session,
        settings,
        user,
        order,
        "payment_received",
        {"amount": amount_pence},
        title="Your deposit is received",
        key=f"instalment:{amount_pence}",
    )


async def payment_failed(
    session: AsyncSession,
    settings: Settings,
    user: User,
    order: Order,
    reason: str | None,
    attempt: str,
) -> None:
    """The customer may try again while the reservation lasts."""
    context = {
        "amount": order.total_pence,
        "reason": reason,
        "retry_url": _order_url(settings, order),
    }
    await _tell(
        session,
        settings,
        user,
        order,
        "payment_failed",
        context,
        title="Your payment did not go through",
        key=f"payment-failed:{attempt}",
    )


async def order_shipped(
    session: AsyncSession, settings: Settings, user: User, order: Order
) -> None:
    context = {
        "carrier": order.carrier or "Insured courier",
        "tracking_number": order.tracking_number or "to follow",
        "delivery_address": order.shipping_address,
    }
    await _tell(
        session,
        settings,
        user,
        order,
        "order_shipped",
        context,
        title="Your order is on its way",
        key="shipped",
    )


async def order_cancelled(
    session: AsyncSession,
    settings: Settings,
    user: User,
    order: Order,
    refund_pence: int,
    *,
    lapsed: bool,
) -> None:
    """Lapsed reservations and cancellations are told apart."""
    if lapsed:
        await _tell(
            session,
            settings,
            user,
            order,
            "reservation_expired",
            {"shop_url": settings.public_base_url},
            title="Your reservation has lapsed",
            key="expired",
        )
        return
    await _tell(
        session,
        settings,
        user,
        order,
        "order_cancelled",
        {"refund_amount": refund_pence},
        title="Your order has been cancelled",
        key="cancelled",
    )


async def refund_issued(
    session: AsyncSession,
    settings: Settings,
    user: User,
    order: Order,
    amount_pence: int,
    reason: str,
    key: str,
) -> None:
    context = {"amount": amount_pence, "reason": reason}
    await _tell(
        session,
        settings,
        user,
        order,
        "refund_issued",
        context,
        title="A refund is on its way",
        key=f"refund:{key}",
    )
