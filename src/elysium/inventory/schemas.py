"""Request and response bodies of the inventory API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from elysium.kit.schemas import Strict

MAX_UNITS = 1_000_000
MAX_HOLD_UNITS = 1_000

Reason = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
Units = Annotated[int, Field(ge=0, le=MAX_UNITS)]


class VariantAvailabilityRead(BaseModel):
    """What anyone may know about a variant; `available` is null for made-to-order pieces."""

    variant_key: str
    available: int | None
    in_stock: bool


class VariantStockRead(VariantAvailabilityRead):
    """The staff view of a variant: `reserved` counts only holds that have not expired."""

    stock_level: int
    reserved: int
    low_stock_threshold: int


class InventoryRead(BaseModel):
    product_slug: str
    made_to_order: bool
    variants: list[VariantAvailabilityRead]


class StaffInventoryRead(BaseModel):
    product_slug: str
    made_to_order: bool
    variants: list[VariantStockRead]


class StockUpdate(Strict):
    """Set the level (`stock_level`) or change it by `adjust`: exactly one of the two."""

    stock_level: Units | None = None
    adjust: Annotated[int, Field(ge=-MAX_UNITS, le=MAX_UNITS)] | None = None
    reason: Reason
    low_stock_threshold: Units | None = None

    @model_validator(mode="after")
    def _exactly_one_change(self) -> StockUpdate:
        if (self.stock_level is None) == (self.adjust is None):
            raise ValueError("give exactly one of stock_level and adjust")
        if self.adjust == 0:
            raise ValueError("adjust must not be zero")
        return self


class ThresholdRequest(Strict):
    """A new low-stock threshold for one variant, and why."""

    product_slug: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    variant_key: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    low_stock_threshold: Units
    reason: Reason


class HoldRequest(Strict):
    """A manual hold (or its release) on units of one variant."""

    product_slug: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    variant_key: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    quantity: Annotated[int, Field(ge=1, le=MAX_HOLD_UNITS)]
    reason: Reason


class HoldRead(BaseModel):
    id: uuid.UUID
    product_slug: str
    variant_key: str
    quantity: int
    reason: str
    expires_at: datetime
    available: int


class StaffHoldRead(BaseModel):
    """A live hold placed by staff on units of a variant."""

    id: uuid.UUID
    variant_key: str
    quantity: int
    reason: str
    held_by: uuid.UUID
    expires_at: datetime


class HoldReleaseRead(BaseModel):
    product_slug: str
    variant_key: str
    released: int
    available: int


class LowStockRead(BaseModel):
    product_slug: str
    variant_key: str
    stock_level: int
    reserved: int
    available: int
    low_stock_threshold: int


class MovementRead(BaseModel):
    """One ledger entry: `delta` moved the stock level, `reserved_delta` the reserved count."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    variant_key: str
    reason: str
    delta: int
    reserved_delta: int
    resulting_stock_level: int
    resulting_reserved: int
    actor_id: uuid.UUID | None
    order_id: uuid.UUID | None
    reservation_id: uuid.UUID | None
    note: str | None
    created_at: datetime
