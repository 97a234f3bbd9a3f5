"""Request and response bodies of the catalogue API."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from elysium.catalog.pricing import SLUG_PATTERN
from elysium.kit.money import Money
from elysium.kit.pagination import Page
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
    sku: str | None = None
    compare_at_price: Money | None = Field(
        None, description="The price before the sale, shown struck through; null when none."
    )
    on_sale: bool = False
    featured: bool = False


_TEXT = r"^[^\x00]*$"
PriceBound = Annotated[
    Decimal | None,
    Field(ge=0, le=10_000_000, decimal_places=2, description="Pounds, VAT included."),
]


class ProductSort(StrEnum):
    """How `GET /api/products` orders pieces (by title when none is asked for)."""

    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"
    FEATURED = "featured"
    POPULAR = "popular"


class ProductListQuery(BaseModel):
    """The query of `GET /api/products`, validated as one model: one pass on the hot path
    instead of one per parameter. Unknown parameters are ignored, as before."""

    collection: str | None = Field(None, max_length=200, pattern=_TEXT)
    category: str | None = Field(
        None, max_length=200, pattern=_TEXT, description="Includes its subcategories."
    )
    q: str | None = Field(
        None, max_length=200, pattern=_TEXT, description="Search words; typos forgiven."
    )
    metal: str | None = Field(None, max_length=200, pattern=_TEXT)
    min_price: PriceBound = None
    max_price: PriceBound = None
    sort: ProductSort | None = Field(
        None, description="Default: by title, or by relevance when searching."
    )
    limit: int = Field(20, ge=1, le=100, description="Page size (max 100).")
    cursor: str | None = Field(
        None, max_length=512, description="The `next_cursor` of the previous page."
    )


class FacetCount(BaseModel):
    value: str
    count: int


class PriceBandCount(BaseModel):
    value: str = Field(examples=["1000-2500"])
    min_price: Money
    max_price: Money | None = Field(description="Exclusive; null for the top band.")
    count: int


class Facets(BaseModel):
    """How many of the filtered products fall in each value (computed on the filtered set)."""

    collection: list[FacetCount]
    category: list[FacetCount]
    metal: list[FacetCount]
    price_band: list[PriceBandCount]


class ProductPage(Page[ProductSummary]):
    """A page of products, with facet counts over every product the filters match."""

    facets: Facets


class CategoryNode(BaseModel):
    """A category with its live product count (its own and every descendant's)."""

    slug: str
    title: str
    description: str | None
    product_count: int
    children: list[CategoryNode]


class CategoryTree(BaseModel):
    items: list[CategoryNode]


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
    width: int | None = Field(None, description="Pixels.")
    height: int | None = Field(None, description="Pixels.")


class CertificateRead(BaseModel):
    """A diamond's grading certificate."""

    laboratory: str = Field(examples=["GIA"])
    number: str
    carat: str = Field(examples=["1.01"])
    colour: str
    clarity: str
    cut: str


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
    sku: str | None = None
    compare_at_price: Money | None = Field(
        None, description="The price before the sale, shown struck through; null when none."
    )
    on_sale: bool = False
    featured: bool = False
    metals: list[str] = Field(default_factory=list)
    certificate: CertificateRead | None = None


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
