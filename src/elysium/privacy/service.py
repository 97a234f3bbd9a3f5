"""GDPR: export everything held about a user; erase (anonymise) it, keeping orders for accounting.

Every table with personal data appears in one exporter and one eraser below, so a new table
cannot be forgotten silently (tests/privacy checks the export names every section). Audit events
are kept: they hold ids and IPs, no names, and are the shop's security record.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, func

from elysium.accounts.service import hash_password
from elysium.audit.service import record_event
from elysium.kit.clock import utcnow
from elysium.models import (
    Address,
    AuditEvent,
    AuthSession,
    BespokeEnquiry,
    Cart,
    CartReminder,
    ConsentRecord,
    Consultation,
    ContactPreference,
    IdempotencyKey,
    Notification,
    Order,
    OrderItem,
    ProductView,
    Review,
    SentEmail,
    User,
    WishlistItem,
)

Exporter = Callable[[AsyncSession, User], Awaitable[Any]]
Eraser = Callable[[AsyncSession, User], Awaitable[None]]
HIDDEN = {"password_hash", "totp_secret", "token_hash", "request_hash", "response"}


def _columns(obj: object) -> dict[str, Any]:
    """A row as a dict of its columns, without secrets."""
    return {
        attr.key: getattr(obj, attr.key)
        for attr in inspect(type(obj)).column_attrs
        if attr.key not in HIDDEN
    }


async def _rows(
    session: AsyncSession, model: Any, *where: ColumnElement[bool]
) -> list[dict[str, Any]]:
    return [_columns(row) for row in await session.scalars(select(model).where(*where))]


async def _export_account(session: AsyncSession, user: User) -> dict[str, Any]:
    return _columns(user) | {"two_factor_enabled": user.totp_enabled_at is not None}


async def _export_orders(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    orders = await _rows(session, Order, Order.user_id == user.id)
    for order in orders:
        order["items"] = await _rows(session, OrderItem, OrderItem.order_id == order["id"])
    return orders


def _by_user(model: Any) -> Exporter:
    async def export(session: AsyncSession, user: User) -> list[dict[str, Any]]:
        return await _rows(session, model, model.user_id == user.id)

    return export


async def _export_bespoke(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    return await _rows(session, BespokeEnquiry, _bespoke_of(user))


async def _export_cart_reminders(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    carts = select(Cart.id).where(Cart.user_id == user.id)
    return await _rows(session, CartReminder, CartReminder.cart_id.in_(carts))


async def _export_consents(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.user_id == user.id)
        .order_by(ConsentRecord.recorded_at)
    )
    return [_columns(record) for record in rows]


async def _export_emails(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    rows = await session.scalars(select(SentEmail).where(SentEmail.to == user.email))
    return [{"template": e.template, "status": e.status, "created_at": e.created_at} for e in rows]


async def _export_audit(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    about_user = or_(AuditEvent.actor_id == user.id, AuditEvent.target_id == str(user.id))
    rows = await session.scalars(
        select(AuditEvent).where(about_user).order_by(AuditEvent.occurred_at)
    )
    return [_columns(event) for event in rows]


def _bespoke_of(user: User) -> ColumnElement[bool]:
    return or_(BespokeEnquiry.user_id == user.id, func.lower(BespokeEnquiry.email) == user.email)


EXPORTERS: dict[str, Exporter] = {
    "account": _export_account,
    "addresses": _by_user(Address),
    "sessions": _by_user(AuthSession),
    "orders": _export_orders,
    "carts": _by_user(Cart),
    "cart_reminders": _export_cart_reminders,
    "wishlist": _by_user(WishlistItem),
    "product_views": _by_user(ProductView),
    "reviews": _by_user(Review),
    "consultations": _by_user(Consultation),
    "bespoke_enquiries": _export_bespoke,
    "notifications": _by_user(Notification),
    "contact_preferences": _by_user(ContactPreference),
    "consent_records": _export_consents,
    "emails": _export_emails,
    "audit_events": _export_audit,
}


def _deleting(model: Any) -> Eraser:
    async def erase(session: AsyncSession, user: User) -> None:
        await session.execute(delete(model).where(model.user_id == user.id))

    return erase


async def _erase_bespoke(session: AsyncSession, user: User) -> None:
    await session.execute(delete(BespokeEnquiry).where(_bespoke_of(user)))


async def _erase_emails(session: AsyncSession, user: User) -> None:
    await session.execute(
        update(SentEmail)
        .where(SentEmail.to == user.email)
        .values(to="erased@erased.invalid", context=None)
    )


async def _anonymise_orders(session: AsyncSession, user: User) -> None:
    """Orders stay for accounting; the addresses keep only the country (VAT evidence)."""

    def keep_country(column: Any) -> Any:
        return func.jsonb_build_object("country", column["country"], "erased", True)

    await session.execute(
        update(Order)
        .where(Order.user_id == user.id)
        .values(
            shipping_address=keep_country(Order.shipping_address),
            billing_address=keep_country(Order.billing_address),
        )
    )


ERASERS: list[Eraser] = [
    _deleting(Address),
    _deleting(AuthSession),
    _deleting(Cart),  # and its reminders, by cascade
    _deleting(WishlistItem),
    _deleting(ProductView),
    _deleting(Review),
    _deleting(Consultation),
    _deleting(Notification),
    _deleting(ContactPreference),
    _deleting(ConsentRecord),
    _deleting(IdempotencyKey),
    _erase_bespoke,
    _erase_emails,
    _anonymise_orders,
]


async def export_user_data(session: AsyncSession, user: User) -> dict[str, Any]:
    """Every section of personal data held about `user`, as plain JSON-able values."""
    data = {name: await exporter(session, user) for name, exporter in EXPORTERS.items()}
    await record_event(
        session, "privacy.exported", actor_id=user.id, target_type="user", target_id=user.id
    )
    return {"generated_at": utcnow(), "user_id": user.id, **data}


async def erase_user(session: AsyncSession, user: User) -> None:
    """Right to erasure: personal data removed or anonymised; orders stay, without the person."""
    for eraser in ERASERS:
        await eraser(session, user)
    user.email = f"erased-{user.id.hex}@erased.invalid"
    user.name = user.phone = user.date_of_birth = user.totp_secret = user.totp_enabled_at = None
    user.preferences = {}
    user.marketing_opt_in = False
    user.password_hash = await hash_password(secrets.token_urlsafe(32))
    user.deleted_at = utcnow()
    await session.flush()
    await record_event(
        session, "privacy.erased", actor_id=user.id, target_type="user", target_id=user.id
    )
