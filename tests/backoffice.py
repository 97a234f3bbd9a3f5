"""Helpers for the back-office tests: a signed-in staff browser over HTTP, orders and refunds
inserted with exact amounts and times (for the report arithmetic), a failed job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import text

from elysium.kit.clock import utcnow
from elysium.models import Order, OrderItem, Payment, Refund
from elysium.models.order import OrderPaymentStatus, OrderStatus, ShippingMethod
from elysium.models.payment import PaymentState, RefundState
from factories import LONDON_ADDRESS, Account

# Every back-office page of part B, each must refuse customers and anonymous visitors.
PAGES = (
    "/admin",
    "/admin/inventory",
    "/admin/reviews",
    "/admin/bespoke",
    "/admin/consultations",
    "/admin/consultations?view=day",
    "/admin/coupons",
    "/admin/jobs",
    "/admin/audit",
    "/admin/reports",
    "/admin/reports/sales-by-day.csv",
)

_NIL = "00000000-0000-0000-0000-000000000000"
# Every action of part B (with ids that need not exist: the staff rule is checked first).
ACTIONS = (
    "/admin/inventory/some-piece/adjust",
    "/admin/inventory/some-piece/threshold",
    "/admin/inventory/some-piece/hold",
    "/admin/inventory/some-piece/release",
    f"/admin/reviews/{_NIL}/approve",
    f"/admin/reviews/{_NIL}/reject",
    f"/admin/bespoke/{_NIL}",
    f"/admin/consultations/{_NIL}/cancel",
    f"/admin/consultations/{_NIL}/reschedule",
    "/admin/coupons",
    f"/admin/coupons/{_NIL}/deactivate",
    "/admin/jobs/1/retry",
)


@dataclass(frozen=True)
class Line:
    slug: str
    title: str
    collection: str | None
    quantity: int
    line_total_pence: int


async def insert_order(
    app: FastAPI,
    account: Account,
    *,
    total_pence: int,
    paid_at: datetime | None,
    created_at: datetime | None = None,
    status: OrderStatus | None = None,
    lines: list[Line] | None = None,
) -> uuid.UUID:
    """An order with exact figures, inserted directly (paid when `paid_at` is given)."""
    order_id = uuid.uuid4()
    placed = created_at or paid_at or utcnow()
    lines = lines or [Line("piece", "Piece", None, 1, total_pence)]
    async with app.state.sessionmaker() as session, session.begin():
        session.add(
            Order(
                id=order_id,
                order_number=f"ELY-T-{order_id.hex[:10]}",
                user_id=uuid.UUID(account.id),
                status=status or (OrderStatus.PAID if paid_at else OrderStatus.PENDING),
                payment_status=OrderPaymentStatus.PAID if paid_at else OrderPaymentStatus.UNPAID,
                payment_provider="bank_transfer",
                subtotal_pence=total_pence,
                vat_pence=total_pence // 6,
                total_pence=total_pence,
                shipping_method=ShippingMethod.UK_NEXT_DAY,
                shipping_address=LONDON_ADDRESS,
                billing_address=LONDON_ADDRESS,
                reservation_expires_at=placed + timedelta(days=3),
                paid_at=paid_at,
                created_at=placed,
            )
        )
        await session.flush()
        for n, line in enumerate(lines, start=1):
            session.add(
                OrderItem(
                    order_id=order_id,
                    position=n,
                    product_slug=line.slug,
                    title=line.title,
                    collection_slug=line.collection,
                    configuration={},
                    variant_key="default",
                    quantity=line.quantity,
                    unit_price_pence=line.line_total_pence // line.quantity,
                    line_total_pence=line.line_total_pence,
                )
            )
    return order_id


async def insert_refund(
    app: FastAPI,
    order_id: uuid.UUID,
    amount_pence: int,
    at: datetime,
    state: RefundState = RefundState.SUCCEEDED,
) -> None:
    """A refund of `amount_pence` opened at `at` (with the payment it pays back)."""
    async with app.state.sessionmaker() as session, session.begin():
        payment = Payment(
            id=uuid.uuid4(),
            order_id=order_id,
            provider="bank_transfer",
            provider_payment_id=f"bt-{uuid.uuid4().hex}",
            amount_pence=amount_pence,
            status=PaymentState.SUCCEEDED,
        )
        session.add(payment)
        await session.flush()
        session.add(
            Refund(
                order_id=order_id,
                payment_id=payment.id,
                amount_pence=amount_pence,
                reason="test",
                status=state,
                idempotency_key=f"test:{uuid.uuid4()}",
                created_at=at,
            )
        )


async def failed_job(app: FastAPI) -> int:
    """A job that used up its attempts, as the worker leaves one."""
    async with app.state.engine.begin() as connection:
        job_id: int = (
            await connection.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts)"
                    " VALUES ('default', 'deliver_email', '{\"email_id\": \"x\"}', 'failed', 3)"
                    " RETURNING id"
                )
            )
        ).scalar_one()
    return job_id
