"""typed vocabularies: drop the order payment status no code sets

The status CHECK constraints are now generated from the StrEnums in `elysium.models`
(`OrderStatus`, `OrderPaymentStatus`, `PaymentState`, `RefundState`, `ReservationOwner`).
Their values are unchanged but for two that no code ever set: the order payment status
`authorised` (payments are captured at once) and the reservation owner `cart` (carts hold no
stock; checkout reserves for the order). The values are frozen here, as a migration must not
change when the code does.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENT_STATUS = ("orders", "payment_status_known", "payment_status")
OWNER = ("stock_reservations", "owner_type_known", "owner_type")
PAYMENT_STATUSES_BEFORE = (
    "unpaid",
    "authorised",
    "paid",
    "partially_refunded",
    "refunded",
    "failed",
)
PAYMENT_STATUSES_AFTER = ("unpaid", "paid", "partially_refunded", "refunded", "failed")
OWNERS_BEFORE = ("order", "cart", "staff")
OWNERS_AFTER = ("order", "staff")


def _recheck(where: tuple[str, str, str], values: tuple[str, ...]) -> None:
    table, name, column = where
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    expression = f"{column} IN ({', '.join(repr(v) for v in values)})"
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, expression)


def upgrade() -> None:
    # Neither value was ever written by the service; a row holding one makes this fail loudly.
    _recheck(PAYMENT_STATUS, PAYMENT_STATUSES_AFTER)
    _recheck(OWNER, OWNERS_AFTER)


def downgrade() -> None:
    _recheck(PAYMENT_STATUS, PAYMENT_STATUSES_BEFORE)
    _recheck(OWNER, OWNERS_BEFORE)
