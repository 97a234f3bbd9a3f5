"""Request and response bodies of the product-view analytics API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from elysium.catalog.schemas import ProductSlug
from elysium.kit.schemas import Strict

SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{8,128}$"
SessionId = Annotated[
    str,
    Field(
        pattern=SESSION_ID_PATTERN,
        description="A random browsing-session id the storefront keeps for a guest.",
    ),
]


class ViewCreate(Strict):
    product_slug: ProductSlug
    session_id: SessionId | None = None


class RecentlyViewedItem(BaseModel):
    """A piece the viewer looked at, with the last time they did."""

    product_slug: str
    title: str
    image: str | None = Field(description="URL of the main image.")
    viewed_at: datetime


class RecentlyViewed(BaseModel):
    items: list[RecentlyViewedItem]


class TrendingItem(BaseModel):
    """A piece and how often it was viewed in the last seven days."""

    product_slug: str
    title: str
    image: str | None = Field(description="URL of the main image.")
    views: int


class Trending(BaseModel):
    items: list[TrendingItem]
