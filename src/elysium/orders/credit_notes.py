"""Credit notes: one per refund given back on an invoiced order, `CRN-<year>-<6 digits>`
from the same kind of gapless counter as invoices, referring to the invoice."""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.errors import NotFoundError
from elysium.kit.clock import utcnow
from elysium.kit.vat import VatTreatment, vat_of
from elysium.models import CreditNote, Order, User
from elysium.orders.documents_pdf import DocumentLine, VatDocument, render
from elysium.orders.history import order_customer
from elysium.orders.invoice import next_document_number, seller
from elysium.orders.read import visible_order
from elysium.payments import refunds

CREDIT_NOTE_PREFIX: Final = "CRN"


async def issue_credit_notes(session: AsyncSession, order: Order) -> list[CreditNote]:
    """A credit note for each refund of the (locked) order given back without one yet;
    none before the order has an invoice (money refunded that was never invoiced)."""
    if order.invoice_number is None:
        return []
    noted = set(
        await session.scalars(select(CreditNote.refund_id).where(CreditNote.order_id == order.id))
    )
    issued = []
    for refund in await refunds.settled_refunds(session, order.id):
        if refund.id in noted:
            continue
        now = utcnow()
        note = CreditNote(
            id=uuid.uuid4(),
            number=await next_document_number(session, CREDIT_NOTE_PREFIX, now),
            order_id=order.id,
            refund_id=refund.id,
            invoice_number=order.invoice_number,
            amount_pence=refund.amount_pence,
            vat_pence=vat_of(refund.amount_pence, order.vat_treatment),
            reason=refund.reason,
            issued_at=now,
        )
        session.add(note)
        issued.append(note)
    await session.flush()
    return issued


async def order_credit_notes(session: AsyncSession, order_id: uuid.UUID) -> list[CreditNote]:
    rows = await session.scalars(
        select(CreditNote).where(CreditNote.order_id == order_id).order_by(CreditNote.number)
    )
    return list(rows)


def credit_note_document(
    settings: Settings, order: Order, note: CreditNote, customer: User
) -> VatDocument:
    return VatDocument(
        title="VAT credit note",
        number=note.number,
        issued_at=note.issued_at,
        tax_point=note.issued_at,
        seller=seller(settings),
        customer_name=customer.name or customer.email,
        billing_address=order.billing_address,
        shipping_address=order.shipping_address,
        order_number=order.order_number,
        lines=[
            DocumentLine(f"Refund: {note.reason}", 1, -note.amount_pence, order.vat_rate_percent)
        ],
        total_pence=-note.amount_pence,
        vat_pence=-note.vat_pence,
        zero_rated=order.vat_treatment == VatTreatment.ZERO_RATED_EXPORT,
        notes=(f"Credit against invoice {note.invoice_number}.",),
    )


async def credit_note_pdf(
    session: AsyncSession, settings: Settings, viewer: User, order_id: uuid.UUID, number: str
) -> bytes:
    """One of the order's credit notes (owner or staff); 404 for an unknown number."""
    order = await visible_order(session, viewer, order_id)
    note = await session.scalar(
        select(CreditNote).where(CreditNote.order_id == order.id, CreditNote.number == number)
    )
    if note is None:
        raise NotFoundError("This order has no credit note with that number.")
    customer = await order_customer(session, order)
    return render(credit_note_document(settings, order, note, customer))
