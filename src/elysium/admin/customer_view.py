"""The staff view of customers: search, the customer page's data, suspend and role changes.

Reads come from the accounts, orders, reviews, bespoke and consultations tables; every change
goes through `accounts.service` (`set_active`, `change_role`), the same calls as the API.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.accounts import service as accounts
from elysium.accounts.profile import list_addresses
from elysium.accounts.schemas import AddressRead
from elysium.admin.schemas import (
    CustomerConsultation,
    CustomerDetail,
    CustomerEnquiry,
    CustomerPatch,
    CustomerReview,
    CustomerSummary,
)
from elysium.errors import ForbiddenError, NotFoundError
from elysium.kit.keyset import decode_time_cursor, page_of
from elysium.kit.money import Money
from elysium.kit.pagination import Page
from elysium.kit.search import contains_pattern
from elysium.models import (
    BespokeEnquiry,
    Consultation,
    Order,
    Payment,
    Product,
    Refund,
    Review,
    User,
)
from elysium.models.payment import PaymentState
from elysium.models.user import Role
from elysium.orders.read import list_orders
from elysium.payments.refunds import SETTLED_STATES
from elysium.privacy.service import export_user_data

RECENT = 50  # rows of each kind the customer page shows


def summary(user: User) -> CustomerSummary:
    return CustomerSummary(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        is_active=user.is_active,
        two_factor_enabled=user.totp_enabled_at is not None,
        created_at=user.created_at,
    )


def _time_key(user: User) -> tuple[datetime, uuid.UUID]:
    return user.created_at, user.id


async def search_customers(
    session: AsyncSession, q: str | None, limit: int, cursor: str | None, role: Role | None = None
) -> Page[CustomerSummary]:
    """Accounts whose email or name contains `q` (any case), newest first; erased ones never."""
    statement = select(User).where(User.deleted_at.is_(None))
    text = (q or "").strip()
    if text:
        pattern = contains_pattern(text)
        statement = statement.where(
            or_(User.email.ilike(pattern, escape="\\"), User.name.ilike(pattern, escape="\\"))
        )
    if role is not None:
        statement = statement.where(User.role == role)
    after = decode_time_cursor(cursor)
    if after is not None:
        statement = statement.where(tuple_(User.created_at, User.id) < after)
    ordered = statement.order_by(User.created_at.desc(), User.id.desc()).limit(limit + 1)
    rows, next_cursor = page_of(list(await session.scalars(ordered)), limit, _time_key)
    return Page(items=[summary(u) for u in rows], next_cursor=next_cursor)


async def customer_account(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The account (404 when there is none or it was erased)."""
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFoundError("No such customer.")
    return user


async def lifetime_spend_pence(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Money received from the customer and kept: succeeded payments less refunds given back."""
    paid = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount_pence), 0))
        .join(Order, Order.id == Payment.order_id)
        .where(Order.user_id == user_id, Payment.status == PaymentState.SUCCEEDED)
    )
    back = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_pence), 0))
        .join(Order, Order.id == Refund.order_id)
        .where(Order.user_id == user_id, Refund.status.in_(SETTLED_STATES))
    )
    return int(paid or 0) - int(back or 0)


async def _reviews(session: AsyncSession, user_id: uuid.UUID) -> list[CustomerReview]:
    rows = await session.execute(
        select(Review, Product.slug)
        .join(Product, Product.id == Review.product_id)
        .where(Review.user_id == user_id)
        .order_by(Review.created_at.desc())
        .limit(RECENT)
    )
    return [
        CustomerReview(
            id=r.id,
            product_slug=slug,
            rating=r.rating,
            title=r.title,
            status=r.status,
            created_at=r.created_at,
        )
        for r, slug in rows
    ]


async def _enquiries(session: AsyncSession, user: User) -> list[CustomerEnquiry]:
    rows = await session.scalars(
        select(BespokeEnquiry)
        .where(
            or_(BespokeEnquiry.user_id == user.id, func.lower(BespokeEnquiry.email) == user.email)
        )
        .order_by(BespokeEnquiry.created_at.desc())
        .limit(RECENT)
    )
    return [
        CustomerEnquiry(
            id=e.id,
            reference=e.reference,
            piece_type=e.piece_type,
            status=e.status,
            created_at=e.created_at,
        )
        for e in rows
    ]


async def _consultations(session: AsyncSession, user_id: uuid.UUID) -> list[CustomerConsultation]:
    rows = await session.scalars(
        select(Consultation)
        .where(Consultation.user_id == user_id)
        .order_by(Consultation.starts_at.desc())
        .limit(RECENT)
    )
    return [
        CustomerConsultation(
            id=c.id, starts_at=c.starts_at, topic=c.topic, cancelled_at=c.cancelled_at
        )
        for c in rows
    ]


async def customer_detail(session: AsyncSession, user_id: uuid.UUID) -> CustomerDetail:
    """The customer page: profile, addresses, orders with lifetime spend, reviews, bespoke
    enquiries and consultations (the latest 50 of each)."""
    user = await customer_account(session, user_id)
    orders = await list_orders(session, user, RECENT, None)
    count = await session.scalar(select(func.count(Order.id)).where(Order.user_id == user.id))
    return CustomerDetail(
        **summary(user).model_dump(),
        phone=user.phone,
        marketing_opt_in=user.marketing_opt_in,
        suspended_at=user.suspended_at,
        addresses=[AddressRead.model_validate(a) for a in await list_addresses(session, user)],
        order_count=int(count or 0),
        lifetime_spend=Money.from_pence(await lifetime_spend_pence(session, user.id)),
        orders=orders.items,
        reviews=await _reviews(session, user.id),
        bespoke_enquiries=await _enquiries(session, user),
        consultations=await _consultations(session, user.id),
    )


async def update_customer(
    session: AsyncSession, actor: User, user_id: uuid.UUID, data: CustomerPatch
) -> CustomerDetail:
    """Suspend or reactivate (staff, by `accounts.service.set_active`'s rules) and change the
    role (administrators only; the last-admin rule holds). Audited by those services."""
    if data.role is not None and actor.role != Role.ADMIN:
        raise ForbiddenError("Only an administrator can change a role.")
    await customer_account(session, user_id)
    if data.role is not None:
        await accounts.change_role(session, actor, user_id, data.role)
    if data.is_active is not None:
        await accounts.set_active(session, actor, user_id, data.is_active)
    return await customer_detail(session, user_id)


async def subject_access_export(
    session: AsyncSession, staff: User, user_id: uuid.UUID
) -> dict[str, Any]:
    """The customer's GDPR export, downloaded by staff; audited as the staff member's action."""
    user = await customer_account(session, user_id)
    return await export_user_data(session, user, actor=staff)
