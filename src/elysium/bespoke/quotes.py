"""Quotes for bespoke commissions: staff send one (a newer quote supersedes the last), the
client is emailed a link to accept it. Accepting turns it into a made-to-order order, which is
the orders domain's use case (`orders/bespoke_order.py`); this module finds, checks and
marks the quote.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.bespoke.schemas import QuoteCreate, QuoteRead
from elysium.bespoke.service import NEXT_STATUSES, get_enquiry
from elysium.config import Settings
from elysium.errors import ConflictError, NotFoundError, ValidationFailedError
from elysium.kit.clock import utcnow
from elysium.kit.money import Money
from elysium.kit.tokens import hash_token, new_token
from elysium.models import BespokeEnquiry, BespokeQuote, User
from elysium.models.bespoke import BespokeStatus, QuoteStatus
from elysium.notifications.emails import send_email


def deposit_of(price_pence: int, percent: int) -> int:
    """`percent`% of the price, rounded half up to the penny (at least a penny)."""
    return max(1, (2 * price_pence * percent + 100) // 200)


def quote_status(quote: BespokeQuote) -> str:
    """`expired` for a quote still open past its `valid_until`."""
    if quote.status == QuoteStatus.SENT and quote.valid_until <= utcnow():
        return "expired"
    return str(quote.status)


def quote_read(quote: BespokeQuote, enquiry: BespokeEnquiry) -> QuoteRead:
    deposit = deposit_of(quote.price_pence, quote.deposit_percent)
    return QuoteRead.model_validate(
        {
            "id": quote.id,
            "enquiry_id": quote.enquiry_id,
            "reference": enquiry.reference,
            "description": quote.description,
            "price": Money.from_pence(quote.price_pence),
            "deposit_percent": quote.deposit_percent,
            "deposit": Money.from_pence(deposit),
            "balance": Money.from_pence(quote.price_pence - deposit),
            "valid_until": quote.valid_until,
            "status": quote_status(quote),
            "order_id": quote.order_id,
            "created_at": quote.created_at,
        }
    )


async def send_quote(
    session: AsyncSession, settings: Settings, staff: User, enquiry_id: uuid.UUID, data: QuoteCreate
) -> QuoteRead:
    """Send the client a quote (staff; audited): earlier open quotes are superseded, the
    enquiry becomes `quoted`, and the client is emailed a link to accept it."""
    enquiry = await session.get(BespokeEnquiry, enquiry_id, with_for_update=True)
    if enquiry is None:
        raise NotFoundError("No such bespoke enquiry.")
    if enquiry.status == "won":
        raise ConflictError("This commission has already been accepted.")
    if data.valid_until <= utcnow():
        message = "must be in the future"
        raise ValidationFailedError(
            f"valid_until {message}.", errors=[{"field": "valid_until", "message": message}]
        )
    await session.execute(
        update(BespokeQuote)
        .where(BespokeQuote.enquiry_id == enquiry.id, BespokeQuote.status == QuoteStatus.SENT)
        .values(status=QuoteStatus.SUPERSEDED, updated_at=utcnow())
    )
    token = new_token()
    quote = BespokeQuote(
        id=uuid.uuid4(),
        enquiry_id=enquiry.id,
        description=data.description,
        price_pence=data.price.to_pence(),
        deposit_percent=data.deposit_percent,
        valid_until=data.valid_until,
        status=QuoteStatus.SENT,
        token_hash=hash_token(token),
        created_by=staff.id,
    )
    session.add(quote)
    if BespokeStatus.QUOTED in NEXT_STATUSES[enquiry.status]:
        enquiry.status = BespokeStatus.QUOTED
    await session.flush()
    await session.refresh(quote)
    await _email_quote(session, settings, enquiry, quote, token)
    await record_event(
        session,
        "bespoke.quoted",
        actor_id=staff.id,
        target_type="bespoke_enquiry",
        target_id=enquiry.id,
        details={"quote_id": str(quote.id), "price_pence": quote.price_pence},
    )
    return quote_read(quote, enquiry)


async def _email_quote(
    session: AsyncSession,
    settings: Settings,
    enquiry: BespokeEnquiry,
    quote: BespokeQuote,
    token: str,
) -> None:
    base = (settings.quote_link_base_url or settings.public_base_url).rstrip("/")
    deposit = deposit_of(quote.price_pence, quote.deposit_percent)
    context = {
        "customer_name": enquiry.name,
        "reference": enquiry.reference,
        "description": quote.description,
        "price": quote.price_pence,
        "deposit": deposit,
        "balance": quote.price_pence - deposit,
        "currency": "GBP",
        "valid_until": quote.valid_until,
        "accept_url": f"{base}/bespoke/quotes/{quote.id}?token={token}",
    }
    await send_email(
        session,
        to=enquiry.email,
        template="bespoke_quote",
        context=context,
        idempotency_key=f"bespoke-quote:{quote.id}",
    )


async def list_quotes(session: AsyncSession, enquiry_id: uuid.UUID) -> list[QuoteRead]:
    """An enquiry's quotes, oldest first (staff)."""
    enquiry = await get_enquiry(session, enquiry_id)
    rows = await session.scalars(
        select(BespokeQuote)
        .where(BespokeQuote.enquiry_id == enquiry.id)
        .order_by(BespokeQuote.created_at, BespokeQuote.id)
    )
    return [quote_read(q, enquiry) for q in rows]


@dataclass(frozen=True, slots=True)
class AcceptableQuote:
    """A quote locked for acceptance, with its enquiry."""

    quote: BespokeQuote
    enquiry: BespokeEnquiry
    deposit_pence: int


def _entitled(
    enquiry: BespokeEnquiry, quote: BespokeQuote, user: User | None, token: str | None
) -> bool:
    if token is not None and secrets.compare_digest(hash_token(token), quote.token_hash):
        return True
    return user is not None and user.email.lower() == enquiry.email.lower()


async def lock_for_acceptance(
    session: AsyncSession, quote_id: uuid.UUID, *, user: User | None, token: str | None
) -> AcceptableQuote:
    """The quote, locked, if the caller may accept it (its token, or signed in as the
    enquiry's email; else 404); 409 when it was superseded, has expired or was accepted."""
    quote = await session.scalar(
        select(BespokeQuote)
        .where(BespokeQuote.id == quote_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    enquiry = None if quote is None else await session.get(BespokeEnquiry, quote.enquiry_id)
    if quote is None or enquiry is None or not _entitled(enquiry, quote, user, token):
        raise NotFoundError("No such quote.")
    status = quote_status(quote)
    if status != "sent":
        raise ConflictError(
            f"This quote is {status} and can no longer be accepted.",
            extra={
                "quote_status": status,
                "order_id": str(quote.order_id) if quote.order_id else None,
            },
        )
    return AcceptableQuote(quote, enquiry, deposit_of(quote.price_pence, quote.deposit_percent))


async def mark_accepted(
    session: AsyncSession, accepted: AcceptableQuote, order_id: uuid.UUID
) -> None:
    """The quote became `order_id`; the commission is won."""
    accepted.quote.status = QuoteStatus.ACCEPTED
    accepted.quote.order_id = order_id
    accepted.quote.updated_at = utcnow()
    accepted.enquiry.status = BespokeStatus.WON
    await session.flush()
