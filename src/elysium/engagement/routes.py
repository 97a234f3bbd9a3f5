"""Wishlist endpoints (contract: "Cart, wishlist, configurations")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from elysium.accounts.deps import CurrentUser
from elysium.catalog.schemas import ProductSlug
from elysium.db import SessionDep
from elysium.engagement import service
from elysium.engagement.schemas import WishlistItemRead, WishlistWrite
from elysium.kit.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(tags=["wishlist"])


@router.get("/api/wishlist")
async def get_wishlist(
    user: CurrentUser, session: SessionDep, limit: LimitQuery = 20, cursor: CursorQuery = None
) -> Page[WishlistItemRead]:
    """Your wishlist, most recently added first, each piece with its current price.

    `unit_price` is the stored configuration's price, or the base price when none is stored.
    """
    return await service.list_wishlist(session, user.id, limit, cursor)


@router.post(
    "/api/wishlist",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "The piece was already on the wishlist; updated."}},
)
async def add_to_wishlist(
    body: WishlistWrite, user: CurrentUser, session: SessionDep, response: Response
) -> WishlistItemRead:
    """Add a piece: 201 when it is new, 200 when it was already there.

    One entry per piece: posting it again replaces the stored configuration (or clears it when
    `configuration` is left out). 422 names an invalid option; 404 for an unknown piece.
    """
    item, created = await service.save_to_wishlist(session, user.id, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return item


@router.delete("/api/wishlist", status_code=status.HTTP_204_NO_CONTENT)
async def remove_from_wishlist(
    product_slug: Annotated[ProductSlug, Query(description="The piece to remove.")],
    user: CurrentUser,
    session: SessionDep,
) -> None:
    """Remove a piece, named by the `?product_slug=` query parameter (no body).

    204 when removed; 404 when it was not on your wishlist.
    """
    await service.remove_from_wishlist(session, user.id, product_slug)
