"""Request and response bodies of the cart and saved-configuration API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from elysium.catalog.schemas import ProductSlug
from elysium.kit.money import Money
from elysium.kit.schemas import Strict
from elysium.kit.vat import VatTreatment
from elysium.models.cart import MAX_LINE_QUANTITY

Quantity = Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]
Configuration = Annotated[
    dict[str, Any],
    Field(
        description="Option name -> value, plus optional `engraving` text.",
        examples=[{"metal": "platinum", "carat": "1.00", "engraving": "Forever"}],
    ),
]


class CartItemCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "product_slug": "aurora-solitaire",
                    "configuration": {"metal": "platinum", "carat": "0.50"},
                    "quantity": 1,
                }
            ]
        },
    )

    product_slug: ProductSlug
    configuration: Configuration = Field(default_factory=dict)
    quantity: Quantity = 1


class CartItemUpdate(Strict):
    quantity: Quantity


class CouponApply(Strict):
    code: Annotated[str, Field(min_length=1, max_length=64)]


class CartItemRead(BaseModel):
    """One line, priced by the price engine when the cart is read."""

    id: uuid.UUID
    product_slug: str
    title: str
    configuration: dict[str, Any]
    variant_key: str
    quantity: int
    unit_price: Money | None = Field(
        description="Null when the piece can no longer be priced (withdrawn, or the "
        "configuration is no longer offered)."
    )
    line_total: Money | None
    available: bool = Field(
        description="Enough stock for every line of this variant in the cart (made-to-order "
        "pieces always are); false for withdrawn pieces."
    )
    problem: str | None = Field(None, description="Why the line cannot be ordered, if it can't.")


class CartRead(BaseModel):
    """The cart, priced afresh: total = subtotal - discount + shipping (default method)."""

    id: uuid.UUID | None = Field(description="Null until the first item is added.")
    items: list[CartItemRead]
    subtotal: Money
    discount: Money
    shipping: Money
    total: Money
    vat: Money = Field(description="The VAT included in the total (0 for a zero-rated export).")
    vat_treatment: VatTreatment = Field(
        description="`standard` for delivery within the UK VAT area (GB, IM), else "
        "`zero_rated_export`: every amount charged net of VAT (`?country=` previews it)."
    )
    coupon_code: str | None
    coupon_problem: str | None = Field(
        None, description="Why the applied coupon gives no discount right now, if it doesn't."
    )
    cart_token: str | None = Field(
        None,
        description="Only when this response created a guest cart: send it back in "
        "`X-Cart-Token` (it is also in that response header).",
    )


class ConfigurationSave(Strict):
    product_slug: ProductSlug
    configuration: Configuration = Field(default_factory=dict)


class SavedConfigurationLink(BaseModel):
    code: str
    url: str


class SavedConfigurationRead(BaseModel):
    """A shared configuration with its price today."""

    code: str
    url: str
    product_slug: str
    title: str
    configuration: dict[str, Any]
    variant_key: str | None
    unit_price: Money | None
    available: bool
    problem: str | None = None
    created_at: datetime
