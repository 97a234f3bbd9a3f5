"""Product reviews and their moderation (contract: "Engagement")."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from elysium.accounts.deps import CurrentUser, EnquiryLimit, StaffUser
from elysium.catalog.schemas import ProductSlug
from elysium.db import SessionDep
from elysium.kit.pagination import CursorQuery, LimitQuery, Page
from elysium.reviews import service
from elysium.reviews.schemas import (
    ProductReviews,
    ReviewAdminRead,
    ReviewCreate,
    ReviewModeration,
    ReviewRead,
    ReviewStatus,
)

router = APIRouter(tags=["reviews"])


@router.get("/api/products/{slug}/reviews")
async def list_product_reviews(
    slug: ProductSlug, session: SessionDep, limit: LimitQuery = 20, cursor: CursorQuery = None
) -> ProductReviews:
    """Approved reviews of a piece, newest first, with the average rating and review count.

    Review text is plain text exactly as written: display it escaped, never as HTML.
    """
    return await service.list_product_reviews(session, slug, limit, cursor)


@router.post(
    "/api/products/{slug}/reviews",
    status_code=status.HTTP_201_CREATED,
    dependencies=[EnquiryLimit],
)
async def create_review(
    slug: ProductSlug, body: ReviewCreate, user: CurrentUser, session: SessionDep
) -> ReviewRead:
    """Review a piece (signed in; one review per piece, else 409).

    The review is `pending` until staff approve it; `verified_purchase` is set when one of
    your paid orders contains the piece.
    """
    return await service.create_review(session, user, slug, body)


@router.get("/api/admin/reviews")
async def list_reviews_for_moderation(
    staff: StaffUser,
    session: SessionDep,
    status_filter: ReviewStatus = Query("pending", alias="status"),
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[ReviewAdminRead]:
    """Reviews in one status (default `pending`), oldest first (staff only)."""
    return await service.list_reviews_for_moderation(session, status_filter, limit, cursor)


@router.patch("/api/admin/reviews/{review_id}")
async def moderate_review(
    review_id: uuid.UUID, body: ReviewModeration, staff: StaffUser, session: SessionDep
) -> ReviewAdminRead:
    """Approve or reject a review (staff only; audited). Approval notifies the author."""
    return await service.moderate_review(session, staff, review_id, body)
