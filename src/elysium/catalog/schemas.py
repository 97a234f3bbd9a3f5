"""Request and response bodies of the catalogue API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from elysium.catalog.pricing import SLUG_PATTERN
from elysium.kit.money import Money
from elysium.kit.schemas import Strict

ProductSlug = Annotated[str, Field(pattern=SLUG_PATTERN, examples=["aurora-solitaire"])]


class ProductSummary(BaseModel):
    """A product as it appears in a list."""

    slug: str
    title: str
    collection: str | None = Field(description="The collection's slug.")
    category: str | None
    base_price: Money
    image: str | None = Field(description="URL of the main image.")
    in_stock: bool


class OptionValueRead(BaseModel):
    value: str
    label: str
    price_delta: Money


class OptionRead(BaseModel):
    name: str
    label: str
    required: bool
    values: list[OptionValueRead]


class EngravingRead(BaseModel):
    available: bool
    price: Money
    max_length: int


class ImageRead(BaseModel):
    url: str
    alt: str | None = None


class ProductRead(BaseModel):
    """A product with everything needed to configure and price it."""

    slug: str
    title: str
    description: str | None
    collection: str | None = Field(description="The collection's slug.")
    category: str | None
    base_price: Money
    options: list[OptionRead]
    engraving: EngravingRead | None
    inventory_options: list[str] = Field(
        description="The options whose values name a stock-keeping variant."
    )
    made_to_order: bool
    lead_time_days: int | None
    images: list[ImageRead]
    in_stock: bool


class CollectionRead(BaseModel):
    slug: str
    title: str
    description: str | None
    product_count: int


class PriceRequest(Strict):
    configuration: Annotated[
        dict[str, Any],
        Field(
            description="Option name -> value, plus optional `engraving` text.",
            examples=[{"metal": "platinum", "carat": "1.00", "ring_size": "L"}],
        ),
    ]


class PriceRead(BaseModel):
    """What a configuration costs (VAT included) and which stock variant it is."""

    unit_price: Money
    variant_key: str
    available: bool
    configuration: dict[str, str] = Field(description="The configuration as understood.")


class WebhookReceipt(BaseModel):
    status: Literal["applied", "unchanged", "deleted", "ignored"]
    id: str
