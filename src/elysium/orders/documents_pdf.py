"""VAT invoices and credit notes as PDF, drawn with fpdf2 (pure Python, no system packages).

Pure: plain values in, PDF bytes out. The standard PDF fonts cover Latin-1 only, so any other
character (say, in a customer's name) is shown as `?` rather than failing the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF

from elysium.kit.money import pence_to_str, vat_part

ZERO_RATED = "Zero-rated export: goods delivered outside the UK VAT area (VAT 0%)."


@dataclass(frozen=True, slots=True)
class Seller:
    name: str
    address: str
    vat_number: str


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """One row: the amount charged (gross) split into net and VAT at `vat_rate` percent."""

    description: str
    quantity: int
    gross_pence: int
    vat_rate: int

    @property
    def vat_pence(self) -> int:
        vat = vat_part(abs(self.gross_pence), self.vat_rate) if self.vat_rate else 0
        return -vat if self.gross_pence < 0 else vat

    @property
    def net_pence(self) -> int:
        return self.gross_pence - self.vat_pence


@dataclass(frozen=True, slots=True)
class VatDocument:
    """What an invoice or a credit note says."""

    title: str
    number: str
    issued_at: datetime
    tax_point: datetime
    seller: Seller
    customer_name: str
    billing_address: dict[str, Any]
    shipping_address: dict[str, Any]
    order_number: str
    lines: Sequence[DocumentLine]
    total_pence: int
    vat_pence: int
    zero_rated: bool
    notes: Sequence[str] = ()


def money(pence: int) -> str:
    """`-123456` -> `-£1,234.56` (exact)."""
    amount = pence_to_str(abs(pence))
    whole, frac = amount.split(".")
    return f"{'-' if pence < 0 else ''}£{int(whole):,}.{frac}"


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _address(address: dict[str, Any]) -> str:
    parts = ("name", "line1", "line2", "city", "postal_code", "country")
    return ", ".join(str(address[p]) for p in parts if address.get(p))


class _Pdf:
    def __init__(self) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()

    def text(self, text: str, *, size: int = 9, bold: bool = False) -> None:
        self.pdf.set_font("Helvetica", "B" if bold else "", size)
        self.pdf.multi_cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def row(self, cells: Sequence[str], widths: Sequence[int], *, bold: bool = False) -> None:
        self.pdf.set_font("Helvetica", "B" if bold else "", 8)
        for n, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            self.pdf.cell(width, 6, _latin1(cell), border="B", align="L" if n == 0 else "R")
        self.pdf.ln(6)

    def gap(self) -> None:
        self.pdf.ln(3)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


_WIDTHS = (70, 14, 26, 16, 26, 28)


def render(document: VatDocument) -> bytes:
    """The document as PDF bytes."""
    pdf = _Pdf()
    pdf.text(document.title, size=16, bold=True)
    pdf.text(f"{document.seller.name}, {document.seller.address}")
    pdf.text(f"VAT registration number: {document.seller.vat_number}")
    pdf.gap()
    pdf.text(f"Number: {document.number}", bold=True)
    pdf.text(f"Date of issue: {document.issued_at:%d %B %Y}")
    pdf.text(f"Tax point: {document.tax_point:%d %B %Y}")
    pdf.text(f"Order: {document.order_number}")
    pdf.gap()
    pdf.text(f"Customer: {document.customer_name}")
    pdf.text(f"Billing address: {_address(document.billing_address)}")
    pdf.text(f"Delivery address: {_address(document.shipping_address)}")
    pdf.gap()
    pdf.row(("Description", "Qty", "Net", "VAT rate", "VAT", "Gross"), _WIDTHS, bold=True)
    for line in document.lines:
        pdf.row(
            (
                line.description[:60],
                str(line.quantity),
                money(line.net_pence),
                f"{line.vat_rate}%",
                money(line.vat_pence),
                money(line.gross_pence),
            ),
            _WIDTHS,
        )
    pdf.gap()
    pdf.text(f"Total net: {money(document.total_pence - document.vat_pence)}", bold=True)
    pdf.text(f"Total VAT: {money(document.vat_pence)}", bold=True)
    pdf.text(f"Total: {money(document.total_pence)}", bold=True)
    if document.zero_rated:
        pdf.gap()
        pdf.text(ZERO_RATED, bold=True)
    for note in document.notes:
        pdf.text(note)
    return pdf.output()
