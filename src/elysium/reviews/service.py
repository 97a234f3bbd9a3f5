"""Reviews: one per customer per product, published once staff approve them."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.catalog.service import get_product
from elysium.errors import ConflictError, NotFoundError
from elysium.kit.clock import utcnow
from elysium.kit.keyset import decode_time_cursor, page_of
from elysium.kit.pagination import Page
from elysium.models import Order, OrderItem, Product, Review, User
from elysium.notifications.service import notify_user
from elysium.reviews.schemas import (
    ProductReviews,
    PublicReview,
    ReviewAdminRead,
    ReviewCreate,
    ReviewModeration,
    ReviewRead,
)

PURCHASED_STATUSES = ("PAID", "FULFILLED", "SHIPPED", "DELIVERED")


async def _has_bought(session: AsyncSession, user_id: uuid.UUID, product_id: uuid.UUID) -> bool:
    """True when one of the user's paid (or later) orders contains the product."""
    bought = exists().where(
        Order.user_id == user_id,
        Order.status.in_(PURCHASED_STATUSES),
        OrderItem.order_id == Order.id,
        OrderItem.product_id == product_id,
    )
    return bool(await session.scalar(select(bought)))


async def create_review(
    session: AsyncSession, user: User, product_slug: str, data: ReviewCreate
) -> ReviewRead:
    """A pending review by `user`; 409 when they have already reviewed the product."""
    product = await get_product(session, product_slug)
    review = Review(
        product_id=product.id,
        user_id=user.id,
        rating=data.rating,
        title=data.title,
        body=data.body,
        verified_purchase=await _has_bought(session, user.id, product.id),
    )
    session.add(review)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConflictError("You have already reviewed this piece.") from exc
    return ReviewRead.model_validate(review)


def _first_name(name: str | None) -> str:
    parts = (name or "").split()
    return parts[0][:50] if parts else "ELYSIUM client"


async def list_product_reviews(
    session: AsyncSession, product_slug: str, limit: int, cursor: str | None
) -> ProductReviews:
    """Approved reviews of a product, newest first, with their average rating and count."""
    product = await get_product(session, product_slug)
    approved = (Review.product_id == product.id, Review.status == "approved")
    average, count = (
        await session.execute(select(func.avg(Review.rating), func.count()).where(*approved))
    ).one()
    stmt = select(Review, User.name).join(User, User.id == Review.user_id).where(*approved)
    after = decode_time_cursor(cursor)
    if after is not None:
        stmt = stmt.where(tuple_(Review.created_at, Review.id) < after)
    stmt = stmt.order_by(Review.created_at.desc(), Review.id.desc()).limit(limit + 1)
    rows = list(await session.execute(stmt))
    page, next_cursor = page_of(rows, limit, lambda row: (row[0].created_at, row[0].id))
    items = [
        PublicReview(
            **ReviewRead.model_validate(review).model_dump(), author_name=_first_name(name)
        )
        for review, name in page
    ]
    return ProductReviews(
        items=items,
        next_cursor=next_cursor,
        average_rating=None if average is None else round(float(average), 2),
        review_count=count,
    )


def _admin_read(review: Review, product_slug: str) -> ReviewAdminRead:
    return ReviewAdminRead(
        **ReviewRead.model_validate(review).model_dump(),
        product_slug=product_slug,
        user_id=review.user_id,
        moderation_note=review.moderation_note,
        moderated_at=review.moderated_at,
    )


async def list_reviews_for_moderation(
    session: AsyncSession, status: str, limit: int, cursor: str | None
) -> Page[ReviewAdminRead]:
    """Reviews in one status, oldest first (the moderation queue)."""
    stmt = (
        select(Review, Product.slug)
        .join(Product, Product.id == Review.product_id)
        .where(Review.status == status)
    )
    after = decode_time_cursor(cursor)
    if after is not None:
        stmt = stmt.where(tuple_(Review.created_at, Review.id) > after)
    stmt = stmt.order_by(Review.created_at, Review.id).limit(limit + 1)
    rows = list(await session.execute(stmt))
    page, next_cursor = page_of(rows, limit, lambda row: (row[0].created_at, row[0].id))
    return Page(items=[_admin_read(r, slug) for r, slug in page], next_cursor=next_cursor)


async def moderate_review(
    session: AsyncSession, staff: User, review_id: uuid.UUID, data: ReviewModeration
) -> ReviewAdminRead:
    """Approve or reject a review (audited); a newly approved review notifies its author."""
    review = await session.get(Review, review_id, with_for_update=True)
    if review is None:
        raise NotFoundError("No such review.")
    product = await session.get(Product, review.product_id)
    assert product is not None  # reviews are deleted with their product
    previous = review.status
    review.status = data.status
    review.moderation_note = data.note
    review.moderated_by = staff.id
    review.moderated_at = utcnow()
    await session.flush()
    await session.refresh(review)
    await record_event(
        session,
        "review.moderated",
        actor_id=staff.id,
        target_type="review",
        target_id=review.id,
        details={"from": previous, "to": data.status, "note": data.note},
    )
    if data.status == "approved" and previous != "approved":
        await _tell_author_published(session, review, product)
    return _admin_read(review, product.slug)


async def _tell_author_published(session: AsyncSession, review: Review, product: Product) -> None:
    await notify_user(
        session,
        review.user_id,
        "review_approved",
        "Your review is published",
        f"Thank you: your review of {product.title} is now shown on the piece's page.",
        {"review_id": str(review.id), "product_slug": product.slug},
    )
