"""Order totals, pure: integer pence in, integer pence out."""

from __future__ import annotations

from dataclasses import dataclass

from elysium.kit.money import vat_part


@dataclass(frozen=True, slots=True)
class OrderTotals:
    """What an order costs; prices include UK VAT, `vat_pence` is the part of the total."""

    subtotal_pence: int
    discount_pence: int
    shipping_pence: int
    total_pence: int
    vat_pence: int


def order_totals(subtotal_pence: int, discount_pence: int, shipping_pence: int) -> OrderTotals:
    """`total = subtotal - discount + shipping`; a discount never exceeds the subtotal."""
    if min(subtotal_pence, discount_pence, shipping_pence) < 0:
        raise ValueError("amounts must not be negative")
    discount = min(discount_pence, subtotal_pence)
    total = subtotal_pence - discount + shipping_pence
    return OrderTotals(subtotal_pence, discount, shipping_pence, total, vat_part(total))
