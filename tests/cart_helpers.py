"""Helpers shared by the cart, coupon and wishlist tests."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import update

from elysium.inventory.importer import import_stock_csv
from elysium.models import Product
from factories import Account, create_product, make_account, register_customer

PLATINUM_HALF = {"metal": "platinum", "carat": "0.50"}
KEY_HALF = "carat=0.50;metal=platinum"
PLATINUM_ONE = {"metal": "platinum", "carat": "1.00"}
KEY_ONE = "carat=1.00;metal=platinum"


async def stocked_product(
    app: FastAPI, client: AsyncClient, levels: dict[str, int] | None = None, **kwargs: Any
) -> Product:
    """A product (£2,400; engraving £95) with stock imported through the inventory service."""
    product = await create_product(app, **kwargs)
    rows = [
        {"product_slug": product.slug, "variant_key": key, "stock_level": str(level)}
        for key, level in (levels or {KEY_HALF: 5, KEY_ONE: 5}).items()
    ]
    async with app.state.sessionmaker() as session, session.begin():
        report = await import_stock_csv(session, rows)
    assert report.errors == []
    return product


async def update_product(app: FastAPI, product: Product, **values: Any) -> None:
    """Change a product row as a catalogue sync would (a new revision), committed."""
    values.setdefault("rev", f"rev-{uuid.uuid4().hex}")
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Product).where(Product.id == product.id).values(**values))


async def add(
    client: AsyncClient,
    product: Product,
    configuration: dict[str, Any] | None = None,
    quantity: int = 1,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "product_slug": product.slug,
        "configuration": PLATINUM_HALF if configuration is None else configuration,
        "quantity": quantity,
    }
    return await client.post("/api/cart", json=body, headers=headers or {})


def guest(token: str) -> dict[str, str]:
    return {"X-Cart-Token": token}


async def customer(client: AsyncClient) -> Account:
    """A signed-in customer who uses the bearer token only (the login cookie is dropped)."""
    account = await register_customer(client)
    client.cookies.clear()
    return account


async def staff_account(app: FastAPI, client: AsyncClient, role: str = "staff") -> Account:
    """A staff member who uses the bearer token only (the login cookie is dropped)."""
    account = await make_account(app, client, role)
    client.cookies.clear()
    return account
