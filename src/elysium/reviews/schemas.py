"""Request and response bodies of the reviews API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from elysium.kit.schemas import Strict

ReviewStatus = Literal["pending", "approved", "rejected"]
Verdict = Literal["approved", "rejected"]

# Text is kept exactly as written (HTML included) and served as plain text, never rendered.
PlainText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^[^\x00]*$")
]


class ReviewCreate(Strict):
    rating: Annotated[int, Field(ge=1, le=5, strict=True)]
    title: Annotated[PlainText, StringConstraints(max_length=150)]
    body: Annotated[PlainText, StringConstraints(max_length=5000)]


class ReviewModeration(Strict):
    status: Verdict
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class ReviewRead(BaseModel):
    """A review as its author and the public see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    rating: int
    title: str
    body: str
    status: ReviewStatus
    verified_purchase: bool
    created_at: datetime


class PublicReview(ReviewRead):
    author_name: str = Field(description="The author's first name.")


class ProductReviews(BaseModel):
    """One page of approved reviews plus the figures over all approved reviews."""

    items: list[PublicReview]
    next_cursor: str | None = None
    average_rating: float | None = Field(description="Over approved reviews; null when none.")
    review_count: int


class ReviewAdminRead(ReviewRead):
    """A review with what moderators need."""

    product_slug: str
    user_id: uuid.UUID
    moderation_note: str | None
    moderated_at: datetime | None
