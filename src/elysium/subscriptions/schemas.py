"""Request and response bodies of saved cards, care plans and subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from elysium.kit.money import Money
from elysium.kit.schemas import Strict
from elysium.models.subscription import PlanInterval, SubscriptionStatus

PlanName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Benefit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TrialDays = Annotated[int, Field(ge=0, le=365)]
Benefits = Annotated[list[Benefit], Field(max_length=30)]


def _positive_price(value: Money | None) -> Money | None:
    if value is not None and (value.to_pence() <= 0 or value.to_pence() > 10_000_000):
        raise ValueError("the price must be above 0.00 and at most 100000.00")
    if value is not None and value.currency != "GBP":
        raise ValueError("care plans are priced in GBP")
    return value


class CardSetupRead(BaseModel):
    """Confirm with Stripe.js (`confirmCardSetup`); the card appears once Stripe reports it."""

    setup_intent_id: str
    client_secret: str


class SavedCardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool


class CarePlanCreate(Strict):
    name: PlanName
    description: Description = ""
    price: Money
    interval: PlanInterval
    trial_days: TrialDays = 0
    benefits: Benefits = Field(default_factory=list)
    active: bool = True

    _price = field_validator("price")(_positive_price)


class CarePlanUpdate(Strict):
    """Only the fields sent change; a new price or interval makes a new price at Stripe."""

    name: PlanName | None = None
    description: Description | None = None
    price: Money | None = None
    interval: PlanInterval | None = None
    trial_days: TrialDays | None = None
    benefits: Benefits | None = None
    active: bool | None = None

    _price = field_validator("price")(_positive_price)


class CarePlanRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    price: Money
    interval: PlanInterval
    trial_days: int
    benefits: list[str]
    active: bool


class SubscriptionCreate(Strict):
    plan_id: uuid.UUID
    order_item_id: uuid.UUID | None = None
    payment_method_id: uuid.UUID = Field(
        description="A saved card (`GET /api/user/payment-methods`)."
    )


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    plan_name: str
    order_item_id: uuid.UUID | None
    status: SubscriptionStatus
    cancel_at_period_end: bool
    current_period_end: datetime | None
    trial_end: datetime | None
    created_at: datetime


class SubscriptionAdminRead(SubscriptionRead):
    user_id: uuid.UUID
    user_email: str
    provider_subscription_id: str | None
