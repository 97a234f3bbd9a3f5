"""Shipping methods and what they cost; prices come from the settings, never from the browser.

- `uk_next_day`: insured UK next-day delivery, free; the shipping address must be in the UK
  (country `GB`). The default for UK addresses.
- `international_courier`: insured international courier, `SHIPPING_INTERNATIONAL_PENCE`
  (£95 by default); the shipping address must be outside the UK. The default for them.
- `atelier_collection`: collection from the London atelier, free, whatever the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from elysium.config import Settings
from elysium.errors import ValidationFailedError
from elysium.models.order import ShippingMethod

HOME_COUNTRY: Final = "GB"


@dataclass(frozen=True, slots=True)
class ShippingOption:
    """One way of getting a piece to the customer."""

    method: ShippingMethod
    label: str
    price_pence: int
    countries: Literal["home", "abroad", "any"]


def shipping_options(settings: Settings) -> dict[ShippingMethod, ShippingOption]:
    """Every shipping method, priced from the settings."""
    options = (
        ShippingOption(ShippingMethod.UK_NEXT_DAY, "Insured UK next-day delivery", 0, "home"),
        ShippingOption(
            ShippingMethod.INTERNATIONAL_COURIER,
            "Insured international courier",
            settings.shipping_international_pence,
            "abroad",
        ),
        ShippingOption(
            ShippingMethod.ATELIER_COLLECTION, "Collection from the London atelier", 0, "any"
        ),
    )
    return {option.method: option for option in options}


def default_method(country: str) -> ShippingMethod:
    """UK next-day for UK addresses, the international courier for the rest of the world."""
    if country == HOME_COUNTRY:
        return ShippingMethod.UK_NEXT_DAY
    return ShippingMethod.INTERNATIONAL_COURIER


def choose_shipping(
    settings: Settings, method: ShippingMethod | None, country: str
) -> ShippingOption:
    """The option for `method` (or the default), checked against the destination country."""
    option = shipping_options(settings)[method or default_method(country)]
    if option.countries == "home" and country != HOME_COUNTRY:
        raise _wrong_country("UK next-day delivery is only available to UK addresses.")
    if option.countries == "abroad" and country == HOME_COUNTRY:
        raise _wrong_country("The international courier is for addresses outside the UK.")
    return option


def _wrong_country(detail: str) -> ValidationFailedError:
    return ValidationFailedError(detail, errors=[{"field": "shipping_method", "message": detail}])
