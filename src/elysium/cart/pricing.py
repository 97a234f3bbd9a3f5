"""A cart priced when it is read: every line through the price engine, never a stored price.

A line that can no longer be priced (the piece was withdrawn or its configuration is no longer
offered) stays in the cart, unpriced and unavailable, and is left out of the subtotal.
Availability compares stock with the quantity of *all* lines of the same variant (two engravings
of one ring draw on the same stock).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from elysium.catalog.pricing import PricedConfiguration
from elysium.catalog.service import price_now
from elysium.errors import ValidationFailedError
from elysium.inventory.service import available_quantities
from elysium.kit.vat import VatTreatment, charged
from elysium.models import Cart, CartItem, Product
from elysium.promotions.service import DiscountLine, DiscountResult, evaluate_coupon

VariantRef = tuple[uuid.UUID, str]


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A cart line with today's price and availability."""

    item: CartItem
    product: Product
    priced: PricedConfiguration | None
    available: bool
    problem: str | None
    treatment: VatTreatment = VatTreatment.STANDARD

    @property
    def variant_key(self) -> str:
        return self.item.variant_key if self.priced is None else self.priced.variant_key

    @property
    def unit_price_pence(self) -> int | None:
        """The unit price charged under the cart's VAT treatment (net for an export)."""
        return (
            None if self.priced is None else charged(self.priced.unit_price_pence, self.treatment)
        )

    @property
    def line_total_pence(self) -> int | None:
        unit = self.unit_price_pence
        return None if unit is None else unit * self.item.quantity

    @property
    def uk_line_total_pence(self) -> int | None:
        return None if self.priced is None else self.priced.unit_price_pence * self.item.quantity


@dataclass(frozen=True, slots=True)
class PricedCart:
    """Every line priced, the subtotal of the priced ones and the coupon's discount."""

    cart: Cart | None
    lines: list[PricedLine]
    subtotal_pence: int
    discount: DiscountResult | None
    coupon_problem: str | None
    treatment: VatTreatment = VatTreatment.STANDARD

    @property
    def discount_pence(self) -> int:
        """Never more than the subtotal (a net discount may round a penny above it)."""
        return (
            0 if self.discount is None else min(self.discount.discount_pence, self.subtotal_pence)
        )


_LINES = (
    select(CartItem, Product)
    .join(Product, Product.id == CartItem.product_id)
    # the Sanity document, description and search vector are never read on a cart's path:
    # not loading them saves most of a cart read's decoding (raise if one ever is)
    .options(
        defer(Product.document, raiseload=True),
        defer(Product.description, raiseload=True),
        defer(Product.search, raiseload=True),
    )
    .where(CartItem.cart_id == bindparam("cart_id"))
    .order_by(CartItem.created_at, CartItem.id)
)


async def load_lines(session: AsyncSession, cart_id: uuid.UUID) -> list[tuple[CartItem, Product]]:
    """The cart's lines with their products, oldest first."""
    rows = await session.execute(_LINES, {"cart_id": cart_id})
    return [(item, product) for item, product in rows]


async def _stock(
    session: AsyncSession, wanted: dict[VariantRef, Product]
) -> dict[VariantRef, int | None]:
    """Units available per variant, in one query."""
    refs = list(wanted)
    units = await available_quantities(session, [(wanted[ref], ref[1]) for ref in refs])
    return dict(zip(refs, units, strict=True))


async def price_lines(
    session: AsyncSession,
    rows: list[tuple[CartItem, Product]],
    *,
    check_stock: bool = True,
    treatment: VatTreatment = VatTreatment.STANDARD,
) -> list[PricedLine]:
    """Price every line and (unless told not to) decide whether there is stock for it."""
    outcomes = [price_now(product, item.configuration) for item, product in rows]
    demand: Counter[VariantRef] = Counter()
    products: dict[VariantRef, Product] = {}
    for (item, product), outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, PricedConfiguration):
            ref = (product.id, outcome.variant_key)
            demand[ref] += item.quantity
            products[ref] = product
    stock = await _stock(session, products) if check_stock else {}
    lines = []
    for (item, product), outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, str):
            lines.append(PricedLine(item, product, None, False, outcome, treatment))
            continue
        ref = (product.id, outcome.variant_key)
        units = stock.get(ref)
        enough = units is None or units >= demand[ref]
        problem = None if enough else f"Only {max(units or 0, 0)} available."
        lines.append(PricedLine(item, product, outcome, enough, problem, treatment))
    return lines


def discount_lines(lines: list[PricedLine]) -> list[DiscountLine]:
    """The priced lines as a coupon sees them."""
    return [
        DiscountLine(line.product.collection_slug, total, line.line_total_pence)
        for line in lines
        if (total := line.uk_line_total_pence) is not None
    ]


async def price_cart(
    session: AsyncSession,
    cart: Cart | None,
    user_id: uuid.UUID | None,
    treatment: VatTreatment = VatTreatment.STANDARD,
) -> PricedCart:
    """The cart priced now under `treatment`; a coupon that no longer applies gives nothing
    and says why."""
    lines = []
    if cart is not None:
        rows = await load_lines(session, cart.id)
        lines = await price_lines(session, rows, treatment=treatment)
    subtotal = sum(line.line_total_pence or 0 for line in lines)
    discount, problem = None, None
    if cart is not None and cart.coupon_code:
        try:
            discount = await evaluate_coupon(
                session,
                cart.coupon_code,
                user_id=user_id,
                lines=discount_lines(lines),
                treatment=treatment,
            )
        except ValidationFailedError as exc:
            problem = exc.detail
    return PricedCart(cart, lines, subtotal, discount, problem, treatment)
