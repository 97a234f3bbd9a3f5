"""GDPR: export everything held about a user; erase (anonymise) it, keeping orders for accounting.

Every column that refers to a user (a foreign key to users.id, an actor id, an email address)
is listed in PERSONAL_COLUMNS with the export section that holds its rows and what erasure
does to them; tests/privacy discovers such columns from the schema and fails, naming the
table, for one that is not listed, not exported or not erased. Audit events are kept: they hold
ids and IPs, no names, and are the shop's append-only security record.

Records matched by email address (guest bespoke enquiries, the sent-email log) count as the
account's only once it has verified that address: registering someone else's email gives no
access to, and no power to erase, their data.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, false, func

from elysium.accounts.service import hash_password
from elysium.audit.service import record_event
from elysium.errors import ForbiddenError, NotFoundError
from elysium.kit.clock import utcnow
from elysium.models import (
    AccountToken,
    Address,
    AuditEvent,
    AuthSession,
    BespokeEnquiry,
    BespokeQuote,
    BillingCustomer,
    Cart,
    CartReminder,
    ConsentRecord,
    Consultation,
    ContactPreference,
    CouponRedemption,
    CreditNote,
    IdempotencyKey,
    Notification,
    Order,
    OrderItem,
    OrderNote,
    OrderReturn,
    OrderReturnLine,
    Payment,
    PaymentEvent,
    ProductView,
    RecentView,
    RecoveryCode,
    Refund,
    Review,
    SavedCard,
    SentEmail,
    Subscription,
    User,
    UserIdentity,
    WishlistItem,
)
from elysium.models.user import Role
from elysium.subscriptions import service as subscriptions

Exporter = Callable[[AsyncSession, User], Awaitable[Any]]
Eraser = Callable[[AsyncSession, User], Awaitable[None]]
HIDDEN = {"password_hash", "totp_secret", "token_hash", "code_hash", "request_hash", "response"}


class Erasure(StrEnum):
    """What erasing the subject does to the rows a column ties to them."""

    DELETED = "deleted"
    # kept (accounting, counts), the tie or the personal fields cleared: `erased_when` holds
    ANONYMISED = "anonymised"
    # the column names a member of staff acting on someone else's record: not the subject's
    # data, so neither exported nor erased with them (their user row is anonymised)
    STAFF_ACTOR = "staff actor"
    # kept on purpose, with the reason in `why`
    KEPT = "kept"


@dataclass(frozen=True)
class Coverage:
    """How one personal column is exported and erased."""

    export: str | None
    erasure: Erasure
    # for ANONYMISED rows still tied to the subject: a SQL condition they all meet once erased
    erased_when: str | None = None
    why: str = ""


def _deleted(section: str) -> Coverage:
    return Coverage(section, Erasure.DELETED)


def _staff(why: str) -> Coverage:
    return Coverage(None, Erasure.STAFF_ACTOR, why=why)


PERSONAL_COLUMNS: dict[str, Coverage] = {
    "users.email": Coverage("account", Erasure.ANONYMISED),
    "account_tokens.user_id": _deleted("account_links"),
    "account_tokens.email": _deleted("account_links"),
    "addresses.user_id": _deleted("addresses"),
    "auth_sessions.user_id": _deleted("sessions"),
    "bespoke_enquiries.user_id": _deleted("bespoke_enquiries"),
    "bespoke_enquiries.email": _deleted("bespoke_enquiries"),
    "bespoke_enquiries.assignee_id": _staff("the member of staff handling an enquiry"),
    "carts.user_id": _deleted("carts"),
    "consultations.user_id": _deleted("consultations"),
    "coupon_redemptions.user_id": Coverage("coupon_redemptions", Erasure.ANONYMISED),
    "idempotency_keys.user_id": _deleted("idempotency_keys"),
    "notifications.user_id": _deleted("notifications"),
    "orders.user_id": Coverage(
        "orders",
        Erasure.ANONYMISED,
        "(shipping_address ? 'erased') AND (billing_address ? 'erased')",
    ),
    "order_status_changes.actor_id": _staff("who moved an order on (staff, or the customer)"),
    "product_views.user_id": _deleted("product_views"),
    "recovery_codes.user_id": _deleted("recovery_codes"),
    "refunds.created_by": _staff("the administrator who made a refund"),
    "reviews.user_id": _deleted("reviews"),
    "reviews.moderated_by": _staff("the member of staff who moderated a review"),
    "sent_emails.to": Coverage("emails", Erasure.ANONYMISED),
    "stock_movements.actor_id": _staff("the member of staff who moved stock"),
    "user_identities.user_id": _deleted("identities"),
    "user_identities.email": _deleted("identities"),
    "wishlist_items.user_id": _deleted("wishlist"),
    "bespoke_quotes.created_by": _staff("the member of staff who sent a quote"),
    "order_notes.author_id": _staff("the member of staff who wrote a note on an order"),
    "billing_customers.user_id": _deleted("billing_customer"),
    "saved_cards.user_id": _deleted("saved_cards"),
    "subscriptions.user_id": Coverage(
        "care_plan_subscriptions",
        Erasure.KEPT,
        why="accounting: ids, dates and statuses only; the plans are ended at the provider",
    ),
    "contact_preferences.user_id": _deleted("contact_preferences"),
    "consent_records.user_id": _deleted("consent_records"),
    "recent_views.user_id": _deleted("recent_views"),
    "audit_events.actor_id": Coverage(
        "audit_events", Erasure.KEPT, why="append-only security record: ids and IPs, no names"
    ),
}


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
        order["credit_notes"] = await _rows(session, CreditNote, CreditNote.order_id == order["id"])
        order["returns"] = await _rows(session, OrderReturn, OrderReturn.order_id == order["id"])
        for row in order["returns"]:
            row["lines"] = await _rows(
                session, OrderReturnLine, OrderReturnLine.return_id == row["id"]
            )
    return orders


async def _export_order_notes(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """Staff notes on the user's orders, and notes the user wrote as staff."""
    on_orders = select(Order.id).where(Order.user_id == user.id)
    about = or_(OrderNote.order_id.in_(on_orders), OrderNote.author_id == user.id)
    rows = await session.scalars(select(OrderNote).where(about).order_by(OrderNote.created_at))
    return [_columns(note) for note in rows]


def _by_user(model: Any) -> Exporter:
    async def export(session: AsyncSession, user: User) -> list[dict[str, Any]]:
        return await _rows(session, model, model.user_id == user.id)

    return export


async def _export_bespoke(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    enquiries = await _rows(session, BespokeEnquiry, _bespoke_of(user))
    for enquiry in enquiries:
        enquiry["quotes"] = await _rows(
            session, BespokeQuote, BespokeQuote.enquiry_id == enquiry["id"]
        )
    return enquiries


def _emails_of(user: User) -> ColumnElement[bool]:
    """The sent-email log is matched by address: only a verified one."""
    return SentEmail.to == user.email if user.email_verified else false()


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
    rows = await session.scalars(select(SentEmail).where(_emails_of(user)))
    return [{"template": e.template, "status": e.status, "created_at": e.created_at} for e in rows]


async def _export_audit(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    about_user = or_(AuditEvent.actor_id == user.id, AuditEvent.target_id == str(user.id))
    rows = await session.scalars(
        select(AuditEvent).where(about_user).order_by(AuditEvent.occurred_at)
    )
    return [_columns(event) for event in rows]


def _bespoke_of(user: User) -> ColumnElement[bool]:
    """Enquiries the account made, and guest ones sent from its address once verified."""
    if not user.email_verified:
        return BespokeEnquiry.user_id == user.id
    return or_(BespokeEnquiry.user_id == user.id, func.lower(BespokeEnquiry.email) == user.email)


EXPORTERS: dict[str, Exporter] = {
    "account": _export_account,
    "addresses": _by_user(Address),
    "sessions": _by_user(AuthSession),
    "orders": _export_orders,
    "order_notes": _export_order_notes,
    "carts": _by_user(Cart),
    "cart_reminders": _export_cart_reminders,
    "wishlist": _by_user(WishlistItem),
    "product_views": _by_user(ProductView),
    "recent_views": _by_user(RecentView),
    "reviews": _by_user(Review),
    "consultations": _by_user(Consultation),
    "bespoke_enquiries": _export_bespoke,
    "notifications": _by_user(Notification),
    "account_links": _by_user(AccountToken),
    "recovery_codes": _by_user(RecoveryCode),
    "identities": _by_user(UserIdentity),
    "coupon_redemptions": _by_user(CouponRedemption),
    "idempotency_keys": _by_user(IdempotencyKey),
    "contact_preferences": _by_user(ContactPreference),
    "consent_records": _export_consents,
    "emails": _export_emails,
    "audit_events": _export_audit,
    "billing_customer": _by_user(BillingCustomer),
    "saved_cards": _by_user(SavedCard),
    "care_plan_subscriptions": _by_user(Subscription),
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
        .where(_emails_of(user))
        .values(to="erased@erased.invalid", context=None, attachments=None)
    )


async def _end_care_plans(session: AsyncSession, user: User) -> None:
    await subscriptions.end_subscriptions_of(session, user.id)


async def _erase_order_notes(session: AsyncSession, user: User) -> None:
    """Notes about the person's orders go (they are not accounting records); notes they wrote
    as staff stay on the orders, without their author."""
    on_orders = select(Order.id).where(Order.user_id == user.id)
    await session.execute(delete(OrderNote).where(OrderNote.order_id.in_(on_orders)))
    await session.execute(
        update(OrderNote).where(OrderNote.author_id == user.id).values(author_id=None)
    )


async def _detach_redemptions(session: AsyncSession, user: User) -> None:
    """Redemptions stay (a coupon's use count), no longer tied to the person."""
    await session.execute(
        update(CouponRedemption).where(CouponRedemption.user_id == user.id).values(user_id=None)
    )


async def _anonymise_orders(session: AsyncSession, user: User) -> None:
    """Orders stay for accounting; the addresses keep only the country (VAT evidence); gift
    messages go, and returns keep their lines and amounts but not the customer's words.
    Credit notes are accounting records with no personal data of their own: they stay."""

    def keep_country(column: Any) -> Any:
        return func.jsonb_build_object("country", column["country"], "erased", True)

    await session.execute(
        update(Order)
        .where(Order.user_id == user.id)
        .values(
            shipping_address=keep_country(Order.shipping_address),
            billing_address=keep_country(Order.billing_address),
            gift_message=None,
        )
    )
    await _erase_payment_events(session, user)
    # a refund's reason is free text staff may have written about the client
    await session.execute(
        update(Refund)
        .where(Refund.order_id.in_(select(Order.id).where(Order.user_id == user.id)))
        .values(reason="(erased)")
    )
    mine = select(Order.id).where(Order.user_id == user.id)
    await session.execute(
        update(OrderReturn).where(OrderReturn.order_id.in_(mine)).values(reason="[erased]")
    )


async def _erase_payment_events(session: AsyncSession, user: User) -> None:
    """The provider's copies of the client's payments (names, emails, card details) are
    reduced to their id and type once handled; unhandled ones stay for staff to act on."""
    intents = (
        select(Payment.provider_payment_id)
        .join(Order, Order.id == Payment.order_id)
        .where(Order.user_id == user.id)
    )
    obj = PaymentEvent.payload["data"]["object"]
    await session.execute(
        update(PaymentEvent)
        .where(
            PaymentEvent.processed_at.is_not(None),
            or_(obj["id"].astext.in_(intents), obj["payment_intent"].astext.in_(intents)),
        )
        .values(
            payload=func.jsonb_build_object(
                "id",
                PaymentEvent.payload["id"],
                "type",
                PaymentEvent.payload["type"],
                "erased",
                True,
            )
        )
    )


ERASERS: list[Eraser] = [
    _deleting(Address),
    _deleting(AuthSession),
    _deleting(Cart),  # and its reminders, by cascade
    _deleting(WishlistItem),
    _deleting(ProductView),
    _deleting(RecentView),
    _deleting(Review),
    _deleting(Consultation),
    _deleting(Notification),
    _deleting(ContactPreference),
    _deleting(ConsentRecord),
    _deleting(IdempotencyKey),
    # saved cards and the provider's customer reference go; care plan subscriptions stay
    # for accounting (ids, dates and statuses only, nothing personal)
    _end_care_plans,
    _deleting(SavedCard),
    _deleting(BillingCustomer),
    _deleting(AccountToken),
    _deleting(RecoveryCode),
    _deleting(UserIdentity),
    _detach_redemptions,
    _erase_bespoke,
    _erase_emails,
    _erase_order_notes,
    _anonymise_orders,
]


async def export_user_data(
    session: AsyncSession, user: User, actor: User | None = None
) -> dict[str, Any]:
    """Every section of personal data held about `user`, as plain JSON-able values.

    Audited as the user's own action, or as `actor`'s when staff download it for them.
    """
    data = {name: await exporter(session, user) for name, exporter in EXPORTERS.items()}
    await record_event(
        session,
        "privacy.exported",
        actor_id=(actor or user).id,
        target_type="user",
        target_id=user.id,
        details={"by_staff": True} if actor is not None and actor.id != user.id else None,
    )
    return {"generated_at": utcnow(), "user_id": user.id, **data}


async def export_for_staff(
    session: AsyncSession, actor: User, user_id: uuid.UUID
) -> dict[str, Any]:
    """A subject-access export run by staff for a client; only admins export staff accounts."""
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFoundError("No such user.")
    if user.is_staff and actor.role != Role.ADMIN:
        raise ForbiddenError("Only an administrator can export a member of staff's data.")
    return await export_user_data(session, user, actor)


async def erase_user(session: AsyncSession, user: User) -> None:
    """Right to erasure: personal data removed or anonymised; orders stay, without the person."""
    for eraser in ERASERS:
        await eraser(session, user)
    user.email = f"erased-{user.id.hex}@erased.invalid"
    user.name = user.phone = user.date_of_birth = user.totp_secret = user.totp_enabled_at = None
    user.email_verified_at = None
    user.preferences = {}
    user.marketing_opt_in = False
    user.password_hash = await hash_password(secrets.token_urlsafe(32))
    user.deleted_at = utcnow()
    await session.flush()
    await record_event(
        session, "privacy.erased", actor_id=user.id, target_type="user", target_id=user.id
    )
