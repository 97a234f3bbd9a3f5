"""Bodies of the staff JSON API under /api/admin (customers; orders use the orders schemas)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from elysium.accounts.schemas import AddressRead
from elysium.kit.money import Money
from elysium.kit.schemas import Strict
from elysium.models.user import Role
from elysium.orders.schemas import OrderSummary


class CustomerSummary(BaseModel):
    """One account in the staff customer list."""

    id: uuid.UUID
    email: str
    name: str | None
    role: Role
    is_active: bool
    two_factor_enabled: bool
    created_at: datetime


class CustomerReview(BaseModel):
    id: uuid.UUID
    product_slug: str
    rating: int
    title: str
    status: str
    created_at: datetime


class CustomerEnquiry(BaseModel):
    id: uuid.UUID
    reference: str
    piece_type: str
    status: str
    created_at: datetime


class CustomerConsultation(BaseModel):
    id: uuid.UUID
    starts_at: datetime
    topic: str
    cancelled_at: datetime | None


class CustomerDetail(CustomerSummary):
    """Everything the customer page shows: profile, addresses, orders and spend, engagement."""

    phone: str | None
    marketing_opt_in: bool
    suspended_at: datetime | None
    addresses: list[AddressRead]
    order_count: int
    lifetime_spend: Money
    orders: list[OrderSummary]
    reviews: list[CustomerReview]
    bespoke_enquiries: list[CustomerEnquiry]
    consultations: list[CustomerConsultation]


class CustomerPatch(Strict):
    """`is_active` suspends (false) or reactivates (true); `role` is for administrators."""

    is_active: bool | None = None
    role: Role | None = None
