"""Request and response bodies of the consultations API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from elysium.kit.money import Money
from elysium.kit.schemas import Strict
from elysium.models import ConsultationKind

Topic = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(examples=["Engagement ring design"]),
]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class Slot(BaseModel):
    """A free consultation slot."""

    starts_at: datetime
    ends_at: datetime


class Slots(BaseModel):
    items: list[Slot]


class ConsultationCreate(Strict):
    starts_at: AwareDatetime = Field(description="The start of a free slot, with its offset.")
    topic: Topic
    notes: Notes | None = None
    care_plan_subscription_id: uuid.UUID | None = Field(
        default=None,
        description="Book a care-plan service, without charge while that plan is active.",
    )
    kind: ConsultationKind = Field(
        ConsultationKind.BRIDAL_DESIGN,
        description="The kind of consultation (see `/api/consultations/types`).",
    )


class ConsultationMove(Strict):
    """Where staff move a booking: the start of a free slot."""

    starts_at: AwareDatetime = Field(description="The start of a free slot, with its offset.")


class ConsultationReschedule(Strict):
    starts_at: AwareDatetime = Field(description="The start of a free slot of the same kind.")


class ConsultationTypeRead(BaseModel):
    """A kind of consultation the atelier offers."""

    kind: ConsultationKind
    title: str
    duration_minutes: int
    price: Money = Field(description="Zero when the consultation is free.")
    free: bool
    days: list[int] = Field(description="ISO weekdays it is offered (1 = Monday).")


class ClosureCreate(Strict):
    day: date
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ClosureRead(BaseModel):
    day: date
    reason: str


ConsultationStatus = Literal["booked", "cancelled"]


class ConsultationRead(BaseModel):
    """A booking; `status` is `cancelled` once cancelled."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ConsultationKind
    price: Money
    starts_at: datetime
    ends_at: datetime
    topic: str
    notes: str | None
    status: ConsultationStatus
    cancelled_at: datetime | None
    rescheduled_at: datetime | None
    created_at: datetime
    care_plan_subscription_id: uuid.UUID | None = None


class ConsultationAdminRead(ConsultationRead):
    """A booking as staff see it: with the client who made it."""

    user_id: uuid.UUID
    customer_email: str
    customer_name: str | None
