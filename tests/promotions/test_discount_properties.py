"""Property tests for discount arithmetic: never negative, never above the eligible subtotal,
percentages rounded half up to the penny exactly."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from elysium.promotions.discounts import (
    DiscountLine,
    discount_for,
    eligible_subtotal,
    percentage_of,
)

pence = st.integers(min_value=0, max_value=10**11)
percents = st.integers(min_value=1, max_value=100)
collections = st.sampled_from([None, "bridal", "fine", "high"])
lines = st.lists(st.builds(DiscountLine, collections, pence), max_size=50)


@given(pence, percents)
def test_percentage_is_exact_half_up(amount: int, percent: int) -> None:
    exact = (Decimal(amount) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert percentage_of(amount, percent) == int(exact)


@given(pence, percents)
def test_percentage_discount_is_within_bounds(eligible: int, percent: int) -> None:
    discount = discount_for(eligible, percent=percent)
    assert 0 <= discount <= eligible
    assert discount == percentage_of(eligible, percent)
    if percent == 100:
        assert discount == eligible


@given(st.integers(min_value=-(10**6), max_value=10**11), pence)
def test_fixed_discount_is_capped_by_the_eligible_subtotal(eligible: int, amount: int) -> None:
    discount = discount_for(eligible, amount_pence=amount)
    assert 0 <= discount <= max(eligible, 0)
    assert discount == min(amount, max(eligible, 0))


@given(lines, st.none() | st.sets(st.sampled_from(["bridal", "fine", "high"])))
def test_eligible_subtotal_counts_only_restricted_collections(
    cart: list[DiscountLine], restriction: set[str] | None
) -> None:
    eligible = eligible_subtotal(cart, restriction)
    total = sum(line.line_total_pence for line in cart)
    assert 0 <= eligible <= total
    if restriction is None:
        assert eligible == total
    excluded = [
        line for line in cart if restriction is not None and line.collection_slug not in restriction
    ]
    assert eligible == total - sum(line.line_total_pence for line in excluded)
