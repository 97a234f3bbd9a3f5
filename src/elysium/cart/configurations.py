"""Saved, shareable configurations: a short unguessable code for a configured piece.

Codes are 12 characters from a 32-letter alphabet (60 random bits, from `secrets`), so they
cannot be guessed or enumerated. The configuration is stored as the price engine normalised
it; its price is never stored, only worked out again when the code is opened.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.cart.schemas import ConfigurationSave, SavedConfigurationLink, SavedConfigurationRead
from elysium.catalog.pricing import PricedConfiguration
from elysium.catalog.service import price_now, price_product
from elysium.config import Settings
from elysium.errors import NotFoundError
from elysium.inventory.service import in_stock
from elysium.kit.money import Money
from elysium.models import Product, SavedConfiguration

CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32: no i, l, o, u
CODE_LENGTH = 12
_CODE_PATTERN = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_code() -> str:
    """A fresh random code (60 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def share_url(settings: Settings, code: str) -> str:
    """Where the storefront shows a saved configuration."""
    return f"{settings.public_base_url.rstrip('/')}/configurations/{code}"


async def save_configuration(
    session: AsyncSession, settings: Settings, data: ConfigurationSave
) -> SavedConfigurationLink:
    """Validate the configuration with the price engine and store it under a new code."""
    product, priced = await price_product(session, data.product_slug, data.configuration)
    while True:  # a collision among 2**60 codes is all but impossible; try again if it happens
        code = new_code()
        inserted = await session.scalar(
            insert(SavedConfiguration)
            .values(code=code, product_id=product.id, configuration=priced.normalized_configuration)
            .on_conflict_do_nothing()
            .returning(SavedConfiguration.id)
        )
        if inserted is not None:
            return SavedConfigurationLink(code=code, url=share_url(settings, code))


async def get_configuration(
    session: AsyncSession, settings: Settings, code: str
) -> SavedConfigurationRead:
    """The saved configuration priced now; 404 for an unknown code."""
    row = None
    if _CODE_PATTERN.fullmatch(code):
        row = (
            await session.execute(
                select(SavedConfiguration, Product)
                .join(Product, Product.id == SavedConfiguration.product_id)
                .where(SavedConfiguration.code == code)
            )
        ).first()
    if row is None:
        raise NotFoundError("There is no saved configuration with this code.")
    saved, product = row
    outcome = price_now(product, saved.configuration)
    priced = outcome if isinstance(outcome, PricedConfiguration) else None
    return SavedConfigurationRead(
        code=saved.code,
        url=share_url(settings, saved.code),
        product_slug=product.slug,
        title=product.title,
        configuration=saved.configuration if priced is None else priced.normalized_configuration,
        variant_key=None if priced is None else priced.variant_key,
        unit_price=None if priced is None else Money.from_pence(priced.unit_price_pence),
        available=priced is not None and await in_stock(session, product, priced.variant_key),
        problem=outcome if isinstance(outcome, str) else None,
        created_at=saved.created_at,
    )
