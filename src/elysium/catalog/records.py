"""Plain records a Sanity document becomes, before anything touches the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

from elysium.catalog.pricing import EngravingSpec, OptionSpec, ProductSpec


@dataclass(frozen=True, slots=True)
class CollectionRecord:
    """A collection, with the columns its table needs."""

    sanity_id: str
    rev: str | None
    updated_at: datetime
    slug: str
    title: str
    description: str | None
    published: bool
    raw: dict[str, Any]
    type: Literal["collection"] = "collection"


@dataclass(frozen=True, slots=True)
class CategoryRecord:
    """A category; `parent_sanity_id` places it in the tree (None at the top)."""

    sanity_id: str
    rev: str | None
    updated_at: datetime
    slug: str
    title: str
    description: str | None
    parent_sanity_id: str | None
    sort_order: int
    published: bool
    raw: dict[str, Any]
    type: Literal["category"] = "category"


@dataclass(frozen=True, slots=True)
class ImageAsset:
    """A Sanity image asset: where it is served and its size in pixels."""

    url: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ProductRecord:
    """A product, with the columns its table needs; `spec` is what the price engine uses."""

    sanity_id: str
    rev: str | None
    updated_at: datetime
    slug: str
    title: str
    description: str | None
    collection_slug: str | None
    category: str | None
    image_url: str | None
    lead_time_days: int | None
    published: bool
    spec: ProductSpec
    raw: dict[str, Any]
    sku: str | None = None
    compare_at_price_pence: int | None = None
    featured: bool = False
    images: tuple[dict[str, Any], ...] = ()
    certificate: dict[str, Any] | None = None
    created_at: datetime | None = None
    type: Literal["product"] = "product"

    @property
    def metals(self) -> list[str]:
        """The values of the piece's `metal` option (what the metal filter matches)."""
        return [v.value for o in self.spec.options if o.name == "metal" for v in o.values]

    @property
    def base_price_pence(self) -> int:
        return self.spec.base_price_pence

    @property
    def currency(self) -> str:
        return self.spec.currency

    @property
    def options(self) -> tuple[OptionSpec, ...]:
        return self.spec.options

    @property
    def inventory_options(self) -> tuple[str, ...]:
        return self.spec.inventory_options

    @property
    def engraving(self) -> EngravingSpec | None:
        return self.spec.engraving

    @property
    def made_to_order(self) -> bool:
        return self.spec.made_to_order

    @property
    def spec_json(self) -> dict[str, Any]:
        """The spec as JSON; `ProductSpec.model_validate(spec_json)` restores it."""
        return self.spec.model_dump(mode="json")


class LineError(NamedTuple):
    """A problem with one line of an NDJSON export (lines count from 1)."""

    line: int
    error: str


@dataclass(slots=True)
class ImportBatch:
    """Everything usable in an export, plus what was wrong with the rest."""

    collections: list[CollectionRecord] = field(default_factory=list)
    categories: list[CategoryRecord] = field(default_factory=list)
    products: list[ProductRecord] = field(default_factory=list)
    image_urls: dict[str, str] = field(default_factory=dict)
    image_assets: dict[str, ImageAsset] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)
    warnings: list[LineError] = field(default_factory=list)
    drafts_skipped: int = 0
    other_types_skipped: int = 0
