"""The back office's money and time formats (property-tested: they must never misstate a sum)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from elysium.admin.format import label, london, money, pence


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_pence_reads_back_to_the_same_amount(amount: int) -> None:
    shown = pence(amount)
    negative = shown.startswith("-")
    digits = shown.removeprefix("-").removeprefix("£").replace(",", "").replace(".", "")
    assert int(digits) * (-1 if negative else 1) == amount
    assert shown.removeprefix("-").startswith("£")


def test_examples() -> None:
    assert pence(5_289_000) == "£52,890.00"
    assert money({"amount": "52890.00", "currency": "GBP"}) == "£52,890.00"
    assert london(datetime(2026, 7, 1, 11, 5, tzinfo=UTC)) == "1 Jul 2026, 12:05"  # BST
    assert london(datetime(2026, 12, 1, 11, 5, tzinfo=UTC)) == "1 Dec 2026, 11:05"  # GMT
    assert label("partially_refunded") == "Partially refunded"
