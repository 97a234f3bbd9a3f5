"""A bespoke commission becomes an order: the client accepts a quote (signed in as the
enquiry's email, or with the token from the emailed link) and gets a made-to-order order at
the quoted price, paid in two instalments: the deposit due now, the balance before shipping.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from elysium.accounts.service import find_user_by_email
from elysium.bespoke import quotes
from elysium.bespoke.quotes import AcceptableQuote
from elysium.config import Settings
from elysium.errors import ConflictError
from elysium.kit.clock import utcnow
from elysium.kit.vat import VatTreatment, rate_percent
from elysium.models import BespokeEnquiry, Order, OrderItem, User
from elysium.models.order import OrderPaymentStatus, ShippingMethod
from elysium.orders.history import history_entry
from elysium.orders.place import next_order_number
from elysium.orders.read import read_order
from elysium.orders.schemas import OrderRead
from elysium.orders.state import PENDING
from elysium.orders.totals import order_totals


async def _customer(session: AsyncSession, viewer: User | None, enquiry: BespokeEnquiry) -> User:
    """Whose order it is: the signed-in client, else the account behind the enquiry."""
    if viewer is not None and viewer.email.lower() == enquiry.email.lower():
        return viewer
    if enquiry.user_id is not None:
        user = await session.get(User, enquiry.user_id)
        if user is not None and user.deleted_at is None:
            return user
    user = await find_user_by_email(session, enquiry.email)
    if user is None:
        raise ConflictError(
            f"Please create an account with {enquiry.email} first, then accept the quote."
        )
    return user


def _collection_address(enquiry: BespokeEnquiry) -> dict[str, str | None]:
    return {
        "name": enquiry.name,
        "line1": "Collection from the London atelier",
        "line2": None,
        "city": "London",
        "postal_code": None,
        "country": "GB",
    }


def _order(
    settings: Settings, accepted: AcceptableQuote, customer: User, number: str
) -> tuple[Order, OrderItem]:
    quote, enquiry, now = accepted.quote, accepted.enquiry, utcnow()
    totals = order_totals(quote.price_pence, 0, 0)
    order = Order(
        id=uuid.uuid4(),
        order_number=number,
        user_id=customer.id,
        status=PENDING,
        payment_status=OrderPaymentStatus.UNPAID,
        payment_provider=settings.payment_provider,
        currency="GBP",
        subtotal_pence=totals.subtotal_pence,
        discount_pence=0,
        shipping_pence=0,
        vat_pence=totals.vat_pence,
        total_pence=totals.total_pence,
        vat_treatment=VatTreatment.STANDARD,
        vat_rate_percent=rate_percent(VatTreatment.STANDARD),
        deposit_pence=accepted.deposit_pence,
        shipping_method=ShippingMethod.ATELIER_COLLECTION,
        shipping_address=_collection_address(enquiry),
        billing_address=_collection_address(enquiry),
        # The deposit is due while the quote stands (and at least as long as a bank transfer).
        reservation_expires_at=max(
            quote.valid_until, now + timedelta(hours=settings.bank_transfer_reservation_hours)
        ),
        created_at=now,
        updated_at=now,
    )
    item = OrderItem(
        id=uuid.uuid4(),
        order_id=order.id,
        position=0,
        product_id=None,
        product_slug="bespoke-commission",
        title=f"Bespoke commission {enquiry.reference}",
        collection_slug=None,
        configuration={"description": quote.description},
        variant_key=f"bespoke:{quote.id}",
        quantity=1,
        unit_price_pence=quote.price_pence,
        line_total_pence=quote.price_pence,
        made_to_order=True,
    )
    return order, item


async def accept_quote(
    session: AsyncSession,
    settings: Settings,
    viewer: User | None,
    quote_id: uuid.UUID,
    token: str | None,
) -> OrderRead:
    """Accept a quote: a PENDING made-to-order order at the quoted price, deposit due now.

    404 unless the caller holds the quote's token or is signed in as the enquiry's email;
    409 for a quote superseded, expired or already accepted, or a client with no account.
    """
    accepted = await quotes.lock_for_acceptance(session, quote_id, user=viewer, token=token)
    customer = await _customer(session, viewer, accepted.enquiry)
    number = await next_order_number(session, utcnow())
    order, item = _order(settings, accepted, customer, number)
    placed = history_entry(
        order,
        by="customer",
        actor_id=customer.id,
        note=f"Bespoke quote accepted ({accepted.enquiry.reference})",
        at=order.created_at,
    )
    session.add_all([order, item, placed])
    await session.flush()
    await quotes.mark_accepted(session, accepted, order.id)
    return await read_order(session, order)
