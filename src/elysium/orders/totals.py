"""Order totals, pure: integer pence in, integer pence out."""

from __future__ import annotations

from dataclasses import dataclass

from elysium.kit.vat import VatTreatment, vat_of


@dataclass(frozen=True, slots=True)
class OrderTotals:
    """What an order costs: the amounts charged (UK prices including VAT, or net of it for a
    zero-rated export); `vat_pence` is the VAT part of the total (0 for an export)."""

    subtotal_pence: int
    discount_pence: int
    shipping_pence: int
    total_pence: int
    vat_pence: int


def order_totals(
    subtotal_pence: int,
    discount_pence: int,
    shipping_pence: int,
    treatment: VatTreatment = VatTreatment.STANDARD,
) -> OrderTotals:
    """`total = subtotal - discount + shipping`; a discount never exceeds the subtotal."""
    if min(subtotal_pence, discount_pence, shipping_pence) < 0:
        raise ValueError("amounts must not be negative")
    discount = min(discount_pence, subtotal_pence)
    total = subtotal_pence - discount + shipping_pence
    return OrderTotals(subtotal_pence, discount, shipping_pence, total, vat_of(total, treatment))
