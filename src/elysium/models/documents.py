"""VAT documents: the gapless yearly counters their numbers come from, and credit notes.

An invoice number lives on its order (`orders.invoice_number`); a credit note is one per
refund. Numbers are `<PREFIX>-<year>-<6 digits>` taken from a counter row updated in the
issuing transaction, so a rolled-back transaction gives its number back (a sequence would not).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from elysium.db import Base, UUIDPrimaryKey


class DocumentCounter(Base):
    """The last number issued of one kind of document in one year."""

    __tablename__ = "document_counters"
    __table_args__ = (CheckConstraint("last_number > 0", name="last_number_positive"),)

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class CreditNote(UUIDPrimaryKey, Base):
    """The VAT credit note of one refund, referring to the order's invoice."""

    __tablename__ = "credit_notes"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    number: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    refund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refunds.id"), unique=True)
    invoice_number: Mapped[str] = mapped_column(String(20))
    amount_pence: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    issued_at: Mapped[datetime]
