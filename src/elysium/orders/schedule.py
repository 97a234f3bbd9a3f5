"""The payment schedule, pure: what an order still has to be paid now.

An order is paid at once (`deposit_pence` null) or, for a bespoke commission, in two
instalments: the deposit due now, the balance (`total - deposit`) before shipping.
`payment_status` follows `unpaid -> deposit_paid -> paid`.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from elysium.models.order import OrderPaymentStatus, OrderStatus
from elysium.orders.state import UNPAID

_NOT_YET_PAID = frozenset({OrderPaymentStatus.UNPAID, OrderPaymentStatus.FAILED})


class Scheduled(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def status(self) -> OrderStatus: ...
    @property
    def payment_status(self) -> OrderPaymentStatus: ...
    @property
    def total_pence(self) -> int: ...
    @property
    def deposit_pence(self) -> int | None: ...


def amount_due(order: Scheduled) -> int:
    """The instalment to pay next: the total (or the deposit) while unpaid, the balance once
    the deposit is in, nothing once paid or closed."""
    if order.status in UNPAID and order.payment_status in _NOT_YET_PAID:
        return order.total_pence if order.deposit_pence is None else order.deposit_pence
    if order.payment_status == OrderPaymentStatus.DEPOSIT_PAID:
        return order.total_pence - (order.deposit_pence or 0)
    return 0


def instalment_name(order: Scheduled) -> str:
    """`payment`, `deposit` or `balance`: what the next payment settles."""
    if order.deposit_pence is None:
        return "payment"
    return "balance" if order.payment_status == OrderPaymentStatus.DEPOSIT_PAID else "deposit"
