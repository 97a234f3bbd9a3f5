"""Request and response bodies of the bespoke enquiries API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from elysium.accounts.schemas import Name
from elysium.kit.money import Money
from elysium.kit.schemas import Strict
from elysium.models.bespoke import BespokeStatus, QuoteStatus

__all__ = ["BespokeCreate", "BespokeRead", "BespokeStatus", "BespokeUpdate"]

MAX_BUDGET_PENCE = 1_000_000_000  # £10 million

PieceType = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    Field(examples=["engagement ring"]),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()-]{5,29}$")
]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
StaffNotes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10000)]


class BespokeCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Ada Lovelace",
                    "email": "ada@example.com",
                    "piece_type": "ring",
                    "budget": {"amount": "12000.00", "currency": "GBP"},
                    "notes": "An emerald-cut sapphire on a platinum band, for our anniversary.",
                }
            ]
        },
    )

    name: Name
    email: EmailStr
    phone: Phone | None = None
    piece_type: PieceType
    budget: Money | None = Field(None, description="An indicative budget, more than zero.")
    notes: Notes

    @field_validator("budget")
    @classmethod
    def _sensible_budget(cls, budget: Money | None) -> Money | None:
        if budget is not None and not 0 < budget.to_pence() <= MAX_BUDGET_PENCE:
            raise ValueError("the budget must be more than 0.00 and at most 10000000.00")
        return budget


class BespokeUpdate(Strict):
    """Fields left out keep their value; `assignee: null` unassigns."""

    status: BespokeStatus | None = None
    assignee: uuid.UUID | None = Field(None, description="A staff member's user id.")
    staff_notes: StaffNotes | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> BespokeUpdate:
        if not self.model_fields_set:
            raise ValueError("name at least one of status, assignee, staff_notes")
        return self


class BespokeRead(BaseModel):
    """An enquiry; `reference` is what the client was told."""

    id: uuid.UUID
    reference: str
    status: BespokeStatus
    name: str
    email: str
    phone: str | None
    piece_type: str
    budget: Money | None
    notes: str
    assignee: uuid.UUID | None
    staff_notes: str | None
    created_at: datetime
    updated_at: datetime


class QuoteCreate(Strict):
    """A price for the commission: the deposit (a percentage of the price) is due on
    acceptance, the balance before delivery; the quote can be accepted until `valid_until`."""

    description: Notes
    price: Money
    deposit_percent: Annotated[int, Field(ge=1, le=100)]
    valid_until: datetime

    @field_validator("price")
    @classmethod
    def _sensible_price(cls, price: Money) -> Money:
        if price.currency != "GBP" or not 0 < price.to_pence() <= MAX_BUDGET_PENCE:
            raise ValueError("the price must be in GBP, more than 0.00 and at most 10000000.00")
        return price

    @field_validator("valid_until")
    @classmethod
    def _aware(cls, valid_until: datetime) -> datetime:
        if valid_until.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-12-31T18:00:00Z)")
        return valid_until


class QuoteAccept(Strict):
    """The token from the quote's link; not needed when signed in as the enquiry's email."""

    token: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class QuoteRead(BaseModel):
    id: uuid.UUID
    enquiry_id: uuid.UUID
    reference: str
    description: str
    price: Money
    deposit_percent: int
    deposit: Money
    balance: Money
    valid_until: datetime
    status: QuoteStatus
    order_id: uuid.UUID | None
    created_at: datetime
