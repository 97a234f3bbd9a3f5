"""VAT invoices: a number when an order is paid, and the invoice as a PDF.

Numbers are `INV-<year>-<6 digits>`, sequential with no gaps within a year: each comes from a
counter row incremented in the paying transaction (`INSERT ... ON CONFLICT DO UPDATE`, which
locks the row until that transaction ends), so a rolled-back payment gives its number back
and two payments at once take consecutive numbers. A sequence could skip.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.errors import NotFoundError
from elysium.kit.clock import utcnow
from elysium.kit.vat import VatTreatment
from elysium.models import DocumentCounter, Order, OrderItem, User
from elysium.notifications.email import Attachment
from elysium.orders.documents_pdf import DocumentLine, Seller, VatDocument, render
from elysium.orders.history import order_customer, order_items
from elysium.orders.read import visible_order

INVOICE_PREFIX: Final = "INV"
INVOICE_ATTACHMENT: Final = "order_invoice"
PDF: Final = "application/pdf"

_COUNTER = DocumentCounter.__table__
_NEXT_NUMBER = (
    insert(DocumentCounter)
    .on_conflict_do_update(
        index_elements=[_COUNTER.c.prefix, _COUNTER.c.year],
        set_={"last_number": _COUNTER.c.last_number + 1},
    )
    .returning(_COUNTER.c.last_number)
)


async def next_document_number(session: AsyncSession, prefix: str, when: datetime) -> str:
    """`<prefix>-<year>-<6 digits>`: the next number of the year, the counter row locked
    until the caller's transaction ends."""
    row = {"prefix": prefix, "year": when.year, "last_number": 1}
    number = (await session.execute(_NEXT_NUMBER, row)).scalar_one()
    return f"{prefix}-{when.year}-{number:06d}"


async def issue_invoice(session: AsyncSession, order: Order) -> None:
    """Number the (locked, just paid) order's invoice; an order keeps the one it has."""
    if order.invoice_number is not None:
        return
    now = utcnow()
    order.invoice_number = await next_document_number(session, INVOICE_PREFIX, now)
    order.invoiced_at = now


def seller(settings: Settings) -> Seller:
    return Seller(settings.seller_name, settings.seller_address, settings.seller_vat_number)


def _description(item: OrderItem) -> str:
    engraving = item.configuration.get("engraving")
    options = ", ".join(
        f"{k} {v}" for k, v in sorted(item.configuration.items()) if k != "engraving"
    )
    text = f"{item.title} ({options})" if options else item.title
    return f"{text}, engraved" if engraving else text


def invoice_lines(order: Order, items: list[OrderItem]) -> list[DocumentLine]:
    """Each line, the discount and the shipping, as charged, at the order's VAT rate."""
    rate = order.vat_rate_percent
    lines = [DocumentLine(_description(i), i.quantity, i.line_total_pence, rate) for i in items]
    if order.discount_pence:
        label = f"Discount ({order.coupon_code})" if order.coupon_code else "Discount"
        lines.append(DocumentLine(label, 1, -order.discount_pence, rate))
    if order.shipping_pence:
        lines.append(DocumentLine("Shipping", 1, order.shipping_pence, rate))
    return lines


def invoice_document(
    settings: Settings, order: Order, items: list[OrderItem], customer: User
) -> VatDocument:
    """The invoice of a paid order (never its gift message)."""
    assert order.invoice_number is not None
    assert order.invoiced_at is not None
    return VatDocument(
        title="VAT invoice",
        number=order.invoice_number,
        issued_at=order.invoiced_at,
        tax_point=order.paid_at or order.invoiced_at,
        seller=seller(settings),
        customer_name=customer.name or customer.email,
        billing_address=order.billing_address,
        shipping_address=order.shipping_address,
        order_number=order.order_number,
        lines=invoice_lines(order, items),
        total_pence=order.total_pence,
        vat_pence=order.vat_pence,
        zero_rated=order.vat_treatment == VatTreatment.ZERO_RATED_EXPORT,
    )


async def invoice_attachment(
    session: AsyncSession, settings: Settings, params: Mapping[str, str]
) -> Attachment | None:
    """The order's invoice as an email attachment, built by the email job when it sends
    (the PDF is never drawn inside the paying transaction); None when there is none."""
    order = await session.get(Order, uuid.UUID(params["order_id"]))
    if order is None or order.invoice_number is None:
        return None
    customer = await order_customer(session, order)
    items = await order_items(session, order.id)
    content = render(invoice_document(settings, order, items, customer))
    return Attachment(f"{order.invoice_number}.pdf", PDF, content)


async def invoice_pdf(
    session: AsyncSession, settings: Settings, viewer: User, order_id: uuid.UUID
) -> bytes:
    """The order's VAT invoice (owner or staff); 404 before the order is paid."""
    order = await visible_order(session, viewer, order_id)
    if order.invoice_number is None:
        raise NotFoundError("This order has no invoice yet: it is issued once it is paid.")
    customer = await order_customer(session, order)
    items = await order_items(session, order.id)
    return render(invoice_document(settings, order, items, customer))
