"""Bespoke enquiries: taken from anyone, acknowledged by email, worked through by staff."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.bespoke.schemas import BespokeCreate, BespokeRead, BespokeUpdate
from elysium.config import Settings
from elysium.errors import IllegalTransitionError, NotFoundError, ValidationFailedError
from elysium.kit.keyset import decode_time_cursor, page_of
from elysium.kit.money import Money
from elysium.kit.pagination import Page
from elysium.kit.ratelimit import RateLimiter
from elysium.models import BespokeEnquiry, User
from elysium.models.bespoke import BespokeStatus
from elysium.notifications.emails import notify_staff, send_email

NEW, CONTACTED, BOOKED = (
    BespokeStatus.NEW,
    BespokeStatus.CONTACTED,
    BespokeStatus.CONSULTATION_BOOKED,
)
IN_DESIGN, QUOTED, WON, LOST = (
    BespokeStatus.IN_DESIGN,
    BespokeStatus.QUOTED,
    BespokeStatus.WON,
    BespokeStatus.LOST,
)
# new → contacted → consultation booked → (in design →) quoted → won / lost. Steps may be
# skipped forward; a cancelled consultation goes back to contacted; a quote may go back to
# design; a lost lead may be revived as contacted; a won one is final.
NEXT_STATUSES: dict[BespokeStatus, frozenset[BespokeStatus]] = {
    NEW: frozenset({CONTACTED, BOOKED, IN_DESIGN, QUOTED, WON, LOST}),
    CONTACTED: frozenset({BOOKED, IN_DESIGN, QUOTED, WON, LOST}),
    BOOKED: frozenset({CONTACTED, IN_DESIGN, QUOTED, WON, LOST}),
    IN_DESIGN: frozenset({QUOTED, WON, LOST}),
    QUOTED: frozenset({IN_DESIGN, WON, LOST}),
    WON: frozenset(),
    LOST: frozenset({CONTACTED}),
}


def enquiry_read(enquiry: BespokeEnquiry) -> BespokeRead:
    budget = enquiry.budget_pence
    return BespokeRead(
        id=enquiry.id,
        reference=enquiry.reference,
        status=enquiry.status,
        name=enquiry.name,
        email=enquiry.email,
        phone=enquiry.phone,
        piece_type=enquiry.piece_type,
        budget=None if budget is None else Money.from_pence(budget, enquiry.currency),
        notes=enquiry.notes,
        assignee=enquiry.assignee_id,
        staff_notes=enquiry.staff_notes,
        created_at=enquiry.created_at,
        updated_at=enquiry.updated_at,
    )


async def create_enquiry(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    data: BespokeCreate,
    user: User | None,
) -> BespokeRead:
    """Record an enquiry and queue the client's acknowledgement and the atelier's notice.

    The acknowledgement goes freely to the signed-in client's own address; to any other address
    (which the shop has not verified) at most ACKNOWLEDGEMENTS_PER_ADDRESS_PER_DAY a day, so the
    form cannot be used to mail someone else over and over.
    """
    user_id = None if user is None else user.id
    enquiry = BespokeEnquiry(
        id=uuid.uuid4(),
        user_id=user_id,
        name=data.name,
        email=str(data.email),
        phone=data.phone,
        piece_type=data.piece_type,
        budget_pence=None if data.budget is None else data.budget.to_pence(),
        currency="GBP" if data.budget is None else data.budget.currency,
        notes=data.notes,
    )
    session.add(enquiry)
    await session.flush()
    acknowledge = await _may_acknowledge(settings, limiter, enquiry.email, user)
    await _send_enquiry_emails(session, settings, enquiry, acknowledge=acknowledge)
    return enquiry_read(enquiry)


async def _may_acknowledge(
    settings: Settings, limiter: RateLimiter, email: str, user: User | None
) -> bool:
    if user is not None and user.email == email.strip().lower():
        return True
    key = f"ack:{email.strip().lower()}"
    reservation = await limiter.reserve(
        [(key, settings.acknowledgements_per_address_per_day)], 86_400
    )
    return reservation.granted


async def _send_enquiry_emails(
    session: AsyncSession, settings: Settings, enquiry: BespokeEnquiry, *, acknowledge: bool
) -> None:
    base = settings.public_base_url.rstrip("/")
    common = {
        "enquiry_reference": enquiry.reference,
        "customer_name": enquiry.name,
        "piece_type": enquiry.piece_type,
    }
    if acknowledge:
        await send_email(
            session,
            to=enquiry.email,
            template="bespoke_enquiry_ack",
            context=common,
            idempotency_key=f"bespoke-ack:{enquiry.id}",
        )
    staff_context = common | {
        "customer_email": enquiry.email,
        "phone": enquiry.phone,
        "budget": enquiry.budget_pence,
        "currency": enquiry.currency,
        "notes": enquiry.notes,
        "admin_url": f"{base}/admin/bespoke/{enquiry.id}",
    }
    await notify_staff(
        session,
        settings,
        template="bespoke_enquiry_staff",
        context=staff_context,
        idempotency_key=f"bespoke-staff:{enquiry.id}",
    )


async def list_enquiries(
    session: AsyncSession, status: BespokeStatus | None, limit: int, cursor: str | None
) -> Page[BespokeRead]:
    """Enquiries newest first, optionally of one status."""
    stmt = select(BespokeEnquiry)
    if status is not None:
        stmt = stmt.where(BespokeEnquiry.status == status)
    after = decode_time_cursor(cursor)
    if after is not None:
        stmt = stmt.where(tuple_(BespokeEnquiry.created_at, BespokeEnquiry.id) < after)
    stmt = stmt.order_by(BespokeEnquiry.created_at.desc(), BespokeEnquiry.id.desc())
    rows = list((await session.scalars(stmt.limit(limit + 1))).all())
    page, next_cursor = page_of(rows, limit, lambda e: (e.created_at, e.id))
    return Page(items=[enquiry_read(e) for e in page], next_cursor=next_cursor)


async def get_enquiry(session: AsyncSession, enquiry_id: uuid.UUID) -> BespokeEnquiry:
    """One enquiry; NotFoundError when there is none."""
    enquiry = await session.get(BespokeEnquiry, enquiry_id)
    if enquiry is None:
        raise NotFoundError("No such bespoke enquiry.")
    return enquiry


async def _ensure_staff_member(session: AsyncSession, user_id: uuid.UUID) -> None:
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None or not user.is_staff:
        raise ValidationFailedError(
            "The assignee must be a member of staff.",
            errors=[{"field": "assignee", "message": "not a staff member"}],
        )


def _ensure_transition(current: BespokeStatus, wanted: BespokeStatus) -> None:
    if wanted != current and wanted not in NEXT_STATUSES[current]:
        raise IllegalTransitionError(f"An enquiry that is {current!r} cannot become {wanted!r}.")


async def update_enquiry(
    session: AsyncSession, staff: User, enquiry_id: uuid.UUID, data: BespokeUpdate
) -> BespokeRead:
    """Move an enquiry along, (re)assign it or annotate it; audited."""
    enquiry = await get_enquiry(session, enquiry_id)
    wanted = _requested(data)
    if "status" in wanted:
        _ensure_transition(enquiry.status, wanted["status"])
    if wanted.get("assignee_id") is not None:
        await _ensure_staff_member(session, wanted["assignee_id"])
    changes = _apply(enquiry, wanted)
    if changes:
        await session.flush()
        await session.refresh(enquiry)
        await record_event(
            session,
            "bespoke.updated",
            actor_id=staff.id,
            target_type="bespoke_enquiry",
            target_id=enquiry.id,
            details={"changes": changes},
        )
    return enquiry_read(enquiry)


def _requested(data: BespokeUpdate) -> dict[str, Any]:
    """The columns the request sets; fields left out (or a null status) change nothing."""
    named = data.model_fields_set
    wanted: dict[str, Any] = {}
    if data.status is not None:
        wanted["status"] = data.status
    if "assignee" in named:
        wanted["assignee_id"] = data.assignee
    if "staff_notes" in named:
        wanted["staff_notes"] = data.staff_notes
    return wanted


def _apply(enquiry: BespokeEnquiry, wanted: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the wanted columns; returns `{column: [old, new]}` of real changes for the audit."""
    changes: dict[str, list[Any]] = {}
    for column, new in wanted.items():
        old = getattr(enquiry, column)
        if new != old:
            changes[column] = [_plain(old), _plain(new)]
            setattr(enquiry, column, new)
    return changes


def _plain(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value
