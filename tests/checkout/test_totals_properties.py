"""Order totals and shipping, as properties over many amounts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elysium.config import Settings
from elysium.errors import ValidationFailedError
from elysium.models.order import ShippingMethod
from elysium.orders.totals import order_totals
from elysium.shipping.service import choose_shipping, shipping_options

pence = st.integers(min_value=0, max_value=10**10)


@given(subtotal=pence, discount=pence, shipping=pence)
def test_total_is_subtotal_less_discount_plus_shipping(
    subtotal: int, discount: int, shipping: int
) -> None:
    totals = order_totals(subtotal, discount, shipping)
    assert totals.discount_pence == min(discount, subtotal)
    assert totals.total_pence == subtotal - totals.discount_pence + shipping
    assert totals.total_pence >= shipping >= 0


@given(subtotal=pence, discount=pence, shipping=pence)
def test_vat_is_a_sixth_of_the_total_rounded_half_up(
    subtotal: int, discount: int, shipping: int
) -> None:
    totals = order_totals(subtotal, discount, shipping)
    exact = Decimal(totals.total_pence) * 20 / 120
    assert totals.vat_pence == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert 0 <= totals.vat_pence <= totals.total_pence


@given(st.integers(max_value=-1), pence, pence)
def test_negative_amounts_are_refused(negative: int, other: int, more: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        order_totals(other, negative, more)


def test_shipping_prices_come_from_the_settings() -> None:
    settings = Settings(_env_file=None, shipping_international_pence=12_000)
    prices = {m: o.price_pence for m, o in shipping_options(settings).items()}
    assert prices == {"uk_next_day": 0, "international_courier": 12_000, "atelier_collection": 0}
    assert choose_shipping(settings, None, "FR").method == "international_courier"
    assert choose_shipping(settings, None, "GB").method == "uk_next_day"
    with pytest.raises(ValidationFailedError):
        choose_shipping(settings, ShippingMethod.UK_NEXT_DAY, "US")
