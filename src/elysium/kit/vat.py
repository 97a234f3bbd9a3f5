"""UK VAT on goods: which treatment a destination gets and what is charged under it, pure.

Catalogue prices are UK prices including VAT at `VAT_RATE_PERCENT`. Goods delivered within the
UK VAT area carry it; goods delivered anywhere else (the Channel Islands, Gibraltar, the EU ...)
are zero-rated exports, charged net: every amount converted on its own as
`round_half_up(gross * 100 / (100 + rate))` to the penny.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from elysium.kit.money import VAT_RATE_PERCENT, vat_part

UK_VAT_AREA: Final = frozenset({"GB", "IM"})


class VatTreatment(StrEnum):
    STANDARD = "standard"
    ZERO_RATED_EXPORT = "zero_rated_export"


def treatment_for(country: str) -> VatTreatment:
    """Standard within the UK VAT area (`GB`, `IM`), a zero-rated export anywhere else."""
    if country.upper() in UK_VAT_AREA:
        return VatTreatment.STANDARD
    return VatTreatment.ZERO_RATED_EXPORT


def rate_percent(treatment: VatTreatment) -> int:
    """The VAT rate the treatment charges."""
    return VAT_RATE_PERCENT if treatment == VatTreatment.STANDARD else 0


def net_of_vat(gross_pence: int, rate: int = VAT_RATE_PERCENT) -> int:
    """`round_half_up(gross * 100 / (100 + rate))`, exact in integers (gross >= 0)."""
    denominator = 100 + rate
    return (2 * gross_pence * 100 + denominator) // (2 * denominator)


def charged(gross_pence: int, treatment: VatTreatment) -> int:
    """What a VAT-inclusive UK amount costs under `treatment`."""
    if treatment == VatTreatment.STANDARD:
        return gross_pence
    return net_of_vat(gross_pence)


def vat_of(total_pence: int, treatment: VatTreatment) -> int:
    """The VAT contained in an amount charged under `treatment`."""
    return vat_part(total_pence, rate_percent(treatment)) if rate_percent(treatment) else 0
