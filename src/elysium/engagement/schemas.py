"""Request and response bodies of the wishlist API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from elysium.catalog.schemas import ProductSlug
from elysium.kit.money import Money
from elysium.kit.schemas import Strict


class WishlistWrite(Strict):
    product_slug: ProductSlug
    configuration: dict[str, Any] | None = Field(
        None, description="A preferred configuration, validated by the price engine."
    )


class WishlistItemRead(BaseModel):
    """A wished-for piece, priced now."""

    product_slug: str
    title: str
    configuration: dict[str, Any] | None
    variant_key: str | None = Field(description="Set when a configuration is stored.")
    unit_price: Money | None = Field(
        description="The configuration's price, or the base price without one; null when the "
        "piece can no longer be priced."
    )
    available: bool
    added_at: datetime
