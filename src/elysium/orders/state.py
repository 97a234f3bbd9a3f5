"""The order state machine: every status change goes through `ensure_transition`.

PENDING        order placed, stock reserved, waiting for the customer's payment
PROCESSING     the provider is still deciding (e.g. a card payment under review)
PAYMENT_FAILED the last attempt failed; stock stays held until the reservation expires
PAID           money received; the reservation has become a sale
FULFILLED      made and packed by the atelier
SHIPPED        handed to the carrier (or ready for collection)
DELIVERED      received by the customer
CANCELLED      closed before fulfilment (stock released, refunded when it had been paid)
REFUNDED       paid back in full after payment
"""

from __future__ import annotations

from typing import Final

from elysium.errors import IllegalTransitionError
from elysium.models.order import OrderPaymentStatus, OrderStatus

PENDING: Final = OrderStatus.PENDING
PROCESSING: Final = OrderStatus.PROCESSING
PAYMENT_FAILED: Final = OrderStatus.PAYMENT_FAILED
PAID: Final = OrderStatus.PAID
FULFILLED: Final = OrderStatus.FULFILLED
SHIPPED: Final = OrderStatus.SHIPPED
DELIVERED: Final = OrderStatus.DELIVERED
CANCELLED: Final = OrderStatus.CANCELLED
REFUNDED: Final = OrderStatus.REFUNDED

ALLOWED: Final[dict[OrderStatus, frozenset[OrderStatus]]] = {
    PENDING: frozenset({PROCESSING, PAYMENT_FAILED, PAID, CANCELLED}),
    PROCESSING: frozenset({PAYMENT_FAILED, PAID, CANCELLED}),
    PAYMENT_FAILED: frozenset({PROCESSING, PAID, CANCELLED}),
    PAID: frozenset({FULFILLED, CANCELLED, REFUNDED}),
    FULFILLED: frozenset({SHIPPED, REFUNDED}),
    SHIPPED: frozenset({DELIVERED, REFUNDED}),
    DELIVERED: frozenset({REFUNDED}),
    CANCELLED: frozenset(),
    REFUNDED: frozenset(),
}

UNPAID: Final = frozenset({PENDING, PROCESSING, PAYMENT_FAILED})
"""Statuses in which the order still waits for its money (and holds a reservation)."""

CANCELLABLE: Final = frozenset(s for s, targets in ALLOWED.items() if CANCELLED in targets)
"""Statuses before fulfilment, from which an order may be cancelled."""

MONEY_KEPT: Final = frozenset({OrderPaymentStatus.PAID, OrderPaymentStatus.PARTIALLY_REFUNDED})
"""Payment statuses in which the house holds the customer's money (units were sold)."""


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether the table allows moving from `current` to `target`."""
    return target in ALLOWED.get(current, frozenset())


def ensure_transition(current: OrderStatus, target: OrderStatus) -> None:
    """Raise IllegalTransitionError (409) unless the table allows `current` -> `target`."""
    if not can_transition(current, target):
        allowed = ", ".join(sorted(ALLOWED.get(current, frozenset()))) or "none"
        raise IllegalTransitionError(
            f"An order cannot go from {current} to {target} (allowed: {allowed}).",
            extra={"from": str(current), "to": str(target)},
        )
