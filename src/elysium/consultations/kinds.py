"""The consultations the atelier offers: how long each takes, what it costs, on which days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from elysium.models import ConsultationKind

TUE_TO_SAT: Final = frozenset({2, 3, 4, 5, 6})


@dataclass(frozen=True, slots=True)
class Offering:
    """One kind of consultation; `days` are ISO weekdays (still only when the atelier opens)."""

    kind: ConsultationKind
    title: str
    minutes: int
    price_pence: int
    days: frozenset[int]
    currency: str = "GBP"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes)


OFFERINGS: Final[dict[ConsultationKind, Offering]] = {
    o.kind: o
    for o in (
        Offering(ConsultationKind.BRIDAL_DESIGN, "Bridal design", 60, 0, TUE_TO_SAT),
        Offering(
            ConsultationKind.BESPOKE_COMMISSION,
            "Bespoke commission",
            90,
            0,
            frozenset({2, 3, 4, 5}),
        ),
        Offering(ConsultationKind.RING_RESIZING, "Ring resizing", 30, 0, TUE_TO_SAT),
        Offering(
            ConsultationKind.INSURANCE_VALUATION,
            "Insurance valuation",
            60,
            15_000,
            frozenset({3, 4}),
        ),
    )
}
DEFAULT_KIND: Final = ConsultationKind.BRIDAL_DESIGN


def offering(kind: ConsultationKind | None) -> Offering:
    """The terms of `kind` (bridal design when none is named)."""
    return OFFERINGS[kind or DEFAULT_KIND]
