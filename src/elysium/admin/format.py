"""How the back office shows values: `£52,890.00`, London time in one format, human labels.

Registered as Jinja filters (`money`, `pence`, `london`, `label`) on the admin templates.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from elysium.kit.clock import SHOP_TZ

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def pence(amount: int | None, currency: str = "GBP") -> str:
    """`5289000` → `£52,890.00` (negative amounts as `-£12.00`)."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    pounds, rest = divmod(abs(amount), 100)
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    return f"{sign}{symbol}{pounds:,}.{rest:02d}"


def money(value: Any) -> str:
    """A money object (`{amount: "52890.00", currency}` or the Money model) as `£52,890.00`."""
    if value is None:
        return ""
    if isinstance(value, dict):
        amount, currency = value["amount"], value.get("currency", "GBP")
    else:
        amount, currency = value.amount, getattr(value, "currency", "GBP")
    return pence(int(Decimal(str(amount)) * 100), currency)


def london(value: datetime | date | None, with_time: bool = True) -> str:
    """A timestamp in Europe/London: `1 Dec 2026, 19:05` (or `1 Dec 2026`); a date: `1 Dec 2026`."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return f"{value.day} {value:%b %Y}"
    if value.tzinfo is not None:
        value = value.astimezone(SHOP_TZ)
    day = f"{value.day} {value:%b %Y}"
    return f"{day}, {value:%H:%M}" if with_time else day


def label(value: Any) -> str:
    """`partially_refunded` → `Partially refunded`; `PAID` → `Paid`."""
    if value is None:
        return ""
    text = str(getattr(value, "value", value)).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:].lower()


FILTERS = {"money": money, "pence": pence, "london": london, "label": label}
