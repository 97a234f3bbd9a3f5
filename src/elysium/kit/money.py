"""Money: integer minor units plus a currency; decimal strings on the wire."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_CURRENCY = "GBP"
VAT_RATE_PERCENT = 20


class Money(BaseModel):
    """`{"amount": "4500.00", "currency": "GBP"}` on the wire."""

    model_config = ConfigDict(frozen=True)

    amount: Annotated[str, Field(pattern=r"^-?\d{1,12}\.\d{2}$", examples=["4500.00"])]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = DEFAULT_CURRENCY

    @classmethod
    def from_pence(cls, pence: int, currency: str = DEFAULT_CURRENCY) -> Money:
        """Build from integer minor units."""
        return cls(amount=pence_to_str(pence), currency=currency)

    def to_pence(self) -> int:
        """Back to integer minor units."""
        return str_to_pence(self.amount)


def pence_to_str(pence: int) -> str:
    """`450000` -> `"4500.00"`, exact."""
    sign = "-" if pence < 0 else ""
    whole, frac = divmod(abs(pence), 100)
    return f"{sign}{whole}.{frac:02d}"


def str_to_pence(amount: str) -> int:
    """`"4500.00"` -> `450000`; raises ValueError for anything that is not a decimal amount."""
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_part(gross_pence: int, rate_percent: int = VAT_RATE_PERCENT) -> int:
    """The VAT contained in a VAT-inclusive amount, rounded half up to the penny."""
    numerator = gross_pence * rate_percent
    denominator = 100 + rate_percent
    return (2 * numerator + denominator) // (2 * denominator)
