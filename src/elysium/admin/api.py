"""The staff JSON API of the back office (contract: "Added with the second round of issues").

Staff role unless said; errors are problem+json; lists are cursor pages. Each route makes one
service call, the same one the /admin pages make.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from elysium.accounts.deps import StaffUser
from elysium.admin import customer_view
from elysium.admin.schemas import CustomerDetail, CustomerPatch, CustomerSummary
from elysium.db import SessionDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page
from elysium.models.order import OrderPaymentStatus, OrderStatus
from elysium.models.user import Role
from elysium.orders.schemas import StaffOrderSummary
from elysium.orders.search import OrderFilters, OrderSort, search_orders

router = APIRouter(prefix="/api/admin", tags=["back office"])

SearchText = Annotated[
    str | None, Query(max_length=200, description="Case-insensitive substring to look for.")
]


@router.get("/orders")
async def list_orders(
    staff: StaffUser,
    session: SessionDep,
    q: SearchText = None,
    status: OrderStatus | None = None,
    payment_status: OrderPaymentStatus | None = None,
    date_from: Annotated[
        date | None, Query(alias="from", description="First London day, inclusive.")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="Last London day, inclusive.")
    ] = None,
    sort: OrderSort = OrderSort.NEWEST,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[StaffOrderSummary]:
    """Every customer's orders (staff): `q` matches the order number, the customer's email or
    name; filter by status, payment status and London date range; 422 when `from` > `to`."""
    filters = OrderFilters(
        q=q, status=status, payment_status=payment_status, date_from=date_from, date_to=date_to
    )
    return await search_orders(session, filters, limit, cursor, sort)


@router.get("/customers")
async def list_customers(
    staff: StaffUser,
    session: SessionDep,
    q: SearchText = None,
    role: Role | None = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[CustomerSummary]:
    """Accounts whose email or name contains `q`, newest first (staff); erased ones never."""
    return await customer_view.search_customers(session, q, limit, cursor, role)


@router.get("/customers/{customer_id}")
async def get_customer(
    customer_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> CustomerDetail:
    """A customer's profile, addresses, orders and lifetime spend, reviews, bespoke enquiries
    and consultations (the latest 50 of each); 404 for no such account."""
    return await customer_view.customer_detail(session, customer_id)


@router.patch("/customers/{customer_id}")
async def patch_customer(
    customer_id: uuid.UUID, body: CustomerPatch, staff: StaffUser, session: SessionDep
) -> CustomerDetail:
    """`{"is_active": false}` suspends (sessions end at once; staff may suspend customers, only
    admins suspend staff; nobody suspends themselves or the last admin); `{"role": ...}` is for
    administrators (403 otherwise; 409 for the last admin). Audited."""
    return await customer_view.update_customer(session, staff, customer_id, body)
