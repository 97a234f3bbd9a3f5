"""Request and response bodies of the coupon administration API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from elysium.catalog.pricing import SLUG_PATTERN
from elysium.kit.money import Money
from elysium.kit.schemas import Strict

CouponCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9_-]{3,64}$"),
]
Count = Annotated[int, Field(ge=1, le=1_000_000)]


class CouponCreate(Strict):
    """A new coupon: `amount` for `fixed`, `percent` (1-100) for `percentage`."""

    code: CouponCode
    description: Annotated[str, Field(max_length=300)] | None = None
    kind: Literal["fixed", "percentage"]
    amount: Money | None = None
    percent: Annotated[int, Field(ge=1, le=100)] | None = None
    min_subtotal: Money | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    max_redemptions: Count | None = None
    max_per_customer: Count | None = None
    collection_slugs: (
        Annotated[list[Annotated[str, Field(pattern=SLUG_PATTERN)]], Field(min_length=1)] | None
    ) = None

    @model_validator(mode="after")
    def _consistent(self) -> CouponCreate:
        if self.kind == "fixed" and (self.amount is None or self.percent is not None):
            raise ValueError("a fixed coupon needs `amount` and no `percent`")
        if self.kind == "percentage" and (self.percent is None or self.amount is not None):
            raise ValueError("a percentage coupon needs `percent` and no `amount`")
        if self.amount is not None and self.amount.to_pence() <= 0:
            raise ValueError("`amount` must be more than zero")
        if self.min_subtotal is not None and self.min_subtotal.to_pence() < 0:
            raise ValueError("`min_subtotal` cannot be negative")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("`ends_at` must be after `starts_at`")
        return self


class CouponRead(BaseModel):
    id: uuid.UUID
    code: str
    description: str | None
    kind: Literal["fixed", "percentage"]
    amount: Money | None
    percent: int | None
    min_subtotal: Money
    starts_at: datetime | None
    ends_at: datetime | None
    max_redemptions: int | None
    max_per_customer: int | None
    collection_slugs: list[str] | None
    active: bool
    redemptions: int
    created_at: datetime
