"""Discount arithmetic, pure: integer pence in, integer pence out."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DiscountLine:
    """What a coupon needs to know about one line: its collection and its total."""

    collection_slug: str | None
    line_total_pence: int
    charged_total_pence: int | None = None
    """What the line costs under the order's VAT treatment (None: its UK price)."""

    @property
    def charged_pence(self) -> int:
        return (
            self.line_total_pence if self.charged_total_pence is None else self.charged_total_pence
        )


@dataclass(frozen=True, slots=True)
class DiscountResult:
    """A coupon that applies, and how much it takes off."""

    coupon_id: uuid.UUID
    code: str
    discount_pence: int


def eligible_subtotal(
    lines: Sequence[DiscountLine], collection_slugs: Collection[str] | None
) -> int:
    """The total of the lines a coupon may discount (all of them without a restriction)."""
    return sum(
        line.line_total_pence
        for line in lines
        if collection_slugs is None or line.collection_slug in collection_slugs
    )


def percentage_of(pence: int, percent: int) -> int:
    """`percent`% of `pence`, rounded half up to the penny (both non-negative)."""
    return (pence * percent * 2 + 100) // 200


def discount_for(
    eligible_pence: int, *, amount_pence: int | None = None, percent: int | None = None
) -> int:
    """A fixed amount or a percentage of the eligible subtotal, never more than it, never < 0."""
    eligible = max(0, eligible_pence)
    raw = percentage_of(eligible, percent) if percent is not None else amount_pence or 0
    return max(0, min(raw, eligible))
