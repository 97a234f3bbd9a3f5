"""typed vocabularies: drop the order payment status no code sets

The status CHECK constraints are now generated from the StrEnums in `elysium.models`
(`OrderStatus`, `OrderPaymentStatus`, `PaymentState`, `RefundState`, `ReservationOwner`).
Their values are unchanged except `OrderPaymentStatus`, which loses `authorised`: payments
are captured at once, so no code ever set it. The values are frozen here, as a migration must
not change when the code does.

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

NAME = "ck_orders_payment_status_known"
BEFORE = ("unpaid", "authorised", "paid", "partially_refunded", "refunded", "failed")
AFTER = ("unpaid", "paid", "partially_refunded", "refunded", "failed")


def _check(values: tuple[str, ...]) -> str:
    return f"payment_status IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.execute("UPDATE orders SET payment_status = 'unpaid' WHERE payment_status = 'authorised'")
    op.drop_constraint(op.f(NAME), "orders", type_="check")
    op.create_check_constraint(op.f(NAME), "orders", _check(AFTER))


def downgrade() -> None:
    op.drop_constraint(op.f(NAME), "orders", type_="check")
    op.create_check_constraint(op.f(NAME), "orders", _check(BEFORE))
