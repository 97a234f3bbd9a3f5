"""What customers hear about their orders: emails and in-app notifications, queued in the
caller's transaction (so they go out only if it commits). The one place to rewire them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import get_settings
from elysium.models import Order, OrderItem, User
from elysium.notifications.emails import send_email
from elysium.notifications.service import notify_user


def _order_url(order: Order) -> str:
    return f"{get_settings().public_base_url}/account/orders/{order.id}"


def _base(order: Order, user: User) -> dict[str, Any]:
    return {
        "customer_name": user.name or "Client",
        "order_number": order.order_number,
        "currency": order.currency,
        "order_url": _order_url(order),
    }


async def _tell(
    session: AsyncSession,
    user: User,
    order: Order,
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    key: str,
) -> None:
    await send_email(
        session,
        to=user.email,
        template=template,
        context=_base(order, user) | context,
        idempotency_key=f"order:{order.id}:{key}",
    )
    await notify_user(
        session,
        user.id,
        f"order.{template}",
        title,
        f"Order {order.order_number}",
        {"order_id": str(order.id), "status": order.status},
    )


def _bank_details() -> dict[str, str]:
    settings = get_settings()
    return {
        "account_name": settings.bank_account_name,
        "bank_name": settings.bank_name,
        "sort_code": settings.bank_sort_code,
        "account_number": settings.bank_account_number,
        "iban": settings.bank_iban,
        "bic": settings.bank_bic,
    }


async def order_placed(session: AsyncSession, user: User, order: Order) -> None:
    """Bank transfer orders get the payment details; card orders hear once they are paid."""
    if order.payment_provider != "bank_transfer":
        return
    context = {
        "pay_by": order.reservation_expires_at,
        "amount": order.total_pence,
        "bank": _bank_details(),
    }
    await _tell(
        session,
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
    session: AsyncSession, user: User, order: Order, items: list[OrderItem]
) -> None:
    """The order confirmation, with every line and the VAT included."""
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
    await _tell(
        session,
        user,
        order,
        "order_confirmation",
        context,
        title="Your order is confirmed",
        key="confirmation",
    )


async def payment_failed(
    session: AsyncSession, user: User, order: Order, reason: str | None, attempt: str
) -> None:
    """The customer may try again while the reservation lasts."""
    context = {
        "amount": order.total_pence,
        "reason": reason,
        "retry_url": _order_url(order),
    }
    await _tell(
        session,
        user,
        order,
        "payment_failed",
        context,
        title="Your payment did not go through",
        key=f"payment-failed:{attempt}",
    )


async def order_shipped(session: AsyncSession, user: User, order: Order) -> None:
    context = {
        "carrier": order.carrier or "Insured courier",
        "tracking_number": order.tracking_number or "to follow",
        "delivery_address": order.shipping_address,
    }
    await _tell(
        session,
        user,
        order,
        "order_shipped",
        context,
        title="Your order is on its way",
        key="shipped",
    )


async def order_cancelled(
    session: AsyncSession, user: User, order: Order, refund_pence: int, *, expired: bool
) -> None:
    """Lapsed reservations and cancellations are told apart."""
    if expired:
        context: dict[str, Any] = {"shop_url": get_settings().public_base_url}
        await _tell(
            session,
            user,
            order,
            "reservation_expired",
            context,
            title="Your reservation has lapsed",
            key="expired",
        )
        return
    await _tell(
        session,
        user,
        order,
        "order_cancelled",
        {"refund_amount": refund_pence},
        title="Your order has been cancelled",
        key="cancelled",
    )


async def refund_issued(
    session: AsyncSession, user: User, order: Order, amount_pence: int, reason: str, key: str
) -> None:
    context = {"amount": amount_pence, "reason": reason}
    await _tell(
        session,
        user,
        order,
        "refund_issued",
        context,
        title="A refund is on its way",
        key=f"refund:{key}",
    )
