"""Typed factory functions: accounts, products, stock, carts and orders for the tests.

Accounts outside tests/accounts/ are inserted with a password hash computed once per test
process (argon2 costs ~20 ms a hash), then signed in through the accounts service, so their
tokens are real sessions. Stock is set through the inventory primitives, without staff.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select, update

from elysium.accounts import security
from elysium.accounts.service import open_session
from elysium.catalog.pricing import product_spec_from_sanity
from elysium.inventory import stock
from elysium.kit.clock import utcnow
from elysium.models import Consultation, Product, SentEmail, User
from elysium.notifications.emails import send_email

DEFAULT_PASSWORD = "velvet-sapphire-2026"
SANITY_WEBHOOK_SECRET = "test-sanity-secret"  # the app's SANITY_WEBHOOK_SECRET in the tests
CUSTOMER_NAME = "Ada Client"
GUEST_SESSION = "guest-session-0001"  # an anonymous visitor's analytics session id
LONDON_ADDRESS = {
    "line1": "1 Bond Street",
    "city": "London",
    "postal_code": "W1S 1AA",
    "country": "GB",
}

# The default product's options (metal x carat, both stock-keeping) and two of its variants.
HALF_CARAT = {"metal": "platinum", "carat": "0.50"}
HALF_CARAT_KEY = "carat=0.50;metal=platinum"
ONE_CARAT = {"metal": "platinum", "carat": "1.00"}
ONE_CARAT_KEY = "carat=1.00;metal=platinum"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "client") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def login(client: AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> str:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def register_customer(
    client: AsyncClient, email: str | None = None, password: str = DEFAULT_PASSWORD
) -> Account:
    """A customer registered and signed in through the API (argon2 twice: prefer make_account
    unless registration itself is under test). Signing in sets the client's session cookie."""
    email = email or unique_email()
    response = await client.post(
        "/api/auth/register", json={"email": email, "password": password, "name": CUSTOMER_NAME}
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["user"]["id"]
    return Account(user_id, email.lower(), password, await login(client, email, password))


@cache
def default_password_hash() -> str:
    """The argon2 hash of DEFAULT_PASSWORD, computed once per test process."""
    return security.hash_password(DEFAULT_PASSWORD)


async def make_account(
    app: FastAPI,
    role: str = "customer",
    *,
    email: str | None = None,
    name: str | None = None,
    email_verified: bool = False,
) -> Account:
    """An account inserted with the precomputed hash and signed in through the accounts service.

    The token is a real session (bearer only: no cookie is set on any client). Its password is
    DEFAULT_PASSWORD, so signing in through the API works too.
    """
    email = (email or unique_email(role)).lower()
    name = name or (CUSTOMER_NAME if role == "customer" else f"{role.title()} Person")
    async with app.state.sessionmaker() as session, session.begin():
        user = User(email=email, password_hash=default_password_hash(), name=name, role=role)
        user.email_verified_at = utcnow() if email_verified else None
        session.add(user)
        await session.flush()
        signed_in = await open_session(session, app.state.settings, user, "pytest")
    return Account(str(user.id), email, DEFAULT_PASSWORD, signed_in.token)


_ADDRESSES = {
    "GB": LONDON_ADDRESS,
    "FR": {"line1": "1 Rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"},
}


async def add_address(
    client: AsyncClient, account: Account, type_: str = "shipping", country: str = "GB"
) -> str:
    """Add a London (or Paris, for FR) address through the API; its id."""
    body = {"type": type_} | _ADDRESSES[country]
    response = await client.post("/api/user/addresses", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    address_id: str = response.json()["id"]
    return address_id


def _sanity_product(
    slug: str, made_to_order: bool, inventory_options: list[str], options: list[dict[str, Any]]
) -> dict[str, Any]:
    """A published Sanity `product` document (prices in pounds, as Sanity holds them)."""
    return {
        "_id": f"product.{slug}",
        "_rev": f"rev-{slug}",
        "_type": "product",
        "_updatedAt": "2025-10-01T09:00:00Z",
        "title": slug.replace("-", " ").title(),
        "slug": {"_type": "slug", "current": slug},
        "basePrice": 2400,
        "currency": "GBP",
        "category": "rings",
        "madeToOrder": made_to_order,
        "inventoryOptions": inventory_options,
        "options": [
            {
                "_key": option["name"],
                "_type": "productOption",
                "name": option["name"],
                "label": option["name"].title(),
                "required": True,
                "values": [
                    {"_key": v, "_type": "optionValue", "value": v, "label": v, "priceDelta": 0}
                    for v in option["values"]
                ],
            }
            for option in options
        ],
        "engraving": {"available": True, "maxLength": 24, "price": 95},
    }


DEFAULT_OPTIONS: list[dict[str, Any]] = [
    {"name": "metal", "values": ["platinum", "18k-yellow-gold"]},
    {"name": "carat", "values": ["0.50", "1.00"]},
]


async def create_product(
    app: FastAPI,
    slug: str | None = None,
    made_to_order: bool = False,
    inventory_options: list[str] | None = None,
    options: list[dict[str, Any]] | None = None,
) -> Product:
    """A live product inserted directly (committed), with a realistic Sanity `document`.

    `options` are `{"name", "values": [...]}`; by default metal x carat, both inventory options,
    so the variant keys are e.g. `carat=0.50;metal=platinum`.
    """
    slug = slug or f"piece-{uuid.uuid4().hex[:8]}"
    options = DEFAULT_OPTIONS if options is None else options
    inventory = [o["name"] for o in options] if inventory_options is None else inventory_options
    document = _sanity_product(slug, made_to_order, inventory, options)
    spec = product_spec_from_sanity(document).model_dump(mode="json")
    product = Product(
        sanity_id=document["_id"],
        slug=slug,
        title=document["title"],
        category="rings",
        base_price_pence=spec["base_price_pence"],
        options=spec["options"],
        inventory_options=spec["inventory_options"],
        engraving=spec["engraving"],
        made_to_order=made_to_order,
        document=document,
        rev=document["_rev"],
        sanity_updated_at=datetime(2025, 10, 1, 9, tzinfo=UTC),
    )
    async with app.state.sessionmaker() as session, session.begin():
        session.add(product)
    return product


async def update_product(app: FastAPI, product: Product, **values: Any) -> None:
    """Change a product row as a catalogue sync would (a new revision), committed."""
    values.setdefault("rev", f"rev-{uuid.uuid4().hex}")
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Product).where(Product.id == product.id).values(**values))


# --- stock ---------------------------------------------------------------------------------


async def set_stock(app: FastAPI, product: Product, levels: Mapping[str, int]) -> None:
    """Set the stock level of variants of `product` (canonical keys), committed.

    The one way tests stock a product: through the inventory primitives every stock write uses
    (a ledger `set` movement per variant), with no staff account and no HTTP request.
    """
    wanted = {(product.id, key): level for key, level in levels.items()}
    async with app.state.sessionmaker() as session, session.begin():
        items = await stock.ensure_and_lock_items(session, wanted.keys())
        for ref, level in wanted.items():
            item = items[ref]
            await stock.move(session, item, reason="set", delta=level - item.stock_level)


async def stocked_piece(app: FastAPI, level: int | Mapping[str, int] = 5, **kwargs: Any) -> Product:
    """A £2,400 product (engraving £95) with `level` units of the platinum 0.50 ct variant, or
    the given levels per variant key. `kwargs` go to `create_product`."""
    product = await create_product(app, **kwargs)
    await set_stock(app, product, {HALF_CARAT_KEY: level} if isinstance(level, int) else level)
    return product


# --- orders: a customer with a filled cart, checkout ---------------------------------------


@dataclass(frozen=True)
class Shopper:
    account: Account
    address_id: str

    @property
    def headers(self) -> dict[str, str]:
        return self.account.headers


async def add_line(
    client: AsyncClient,
    product: Product,
    configuration: dict[str, Any] | None = None,
    quantity: int = 1,
    headers: dict[str, str] | None = None,
) -> Response:
    """POST /api/cart (the platinum 0.50 ct configuration unless another is given)."""
    body = {
        "product_slug": product.slug,
        "configuration": HALF_CARAT if configuration is None else configuration,
        "quantity": quantity,
    }
    return await client.post("/api/cart", json=body, headers=headers or {})


def guest(token: str) -> dict[str, str]:
    """The headers of a guest holding cart `token`."""
    return {"X-Cart-Token": token}


async def add_to_cart(
    client: AsyncClient,
    account: Account,
    product: Product,
    quantity: int = 1,
    configuration: dict[str, Any] | None = None,
) -> None:
    response = await add_line(client, product, configuration, quantity, account.headers)
    assert response.status_code == 201, response.text


async def shopper(
    app: FastAPI, client: AsyncClient, product: Product | None = None, quantity: int = 1
) -> Shopper:
    """A signed-in customer with a UK address and, given a product, a cart holding it."""
    account = await make_account(app)
    address_id = await add_address(client, account)
    if product is not None:
        await add_to_cart(client, account, product, quantity)
    return Shopper(account, address_id)


def checkout_body(who: Shopper, **overrides: Any) -> dict[str, Any]:
    return {
        "shipping_address_id": who.address_id,
        "billing_address_id": who.address_id,
    } | overrides


async def checkout(
    client: AsyncClient, who: Shopper, key: str | None = None, **overrides: Any
) -> Response:
    """POST /api/checkout with a fresh (or the given) Idempotency-Key; returns the response."""
    headers = who.headers | {"Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post("/api/checkout", json=checkout_body(who, **overrides), headers=headers)


async def placed_order(client: AsyncClient, who: Shopper) -> dict[str, Any]:
    """Check out and return the order (asserting 201)."""
    response = await checkout(client, who)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()["order"]
    return order


# --- engagement: queued emails --------------------------------------------------------------

WELCOME_CONTEXT = {
    "customer_name": "Ada",
    "shop_url": "https://elysium.example/collections",
    "account_url": "https://elysium.example/account",
}


async def queue_welcome(app: FastAPI, to: str, key: str | None = None) -> None:
    """Log (and queue for delivery) one welcome email, committed; the key defaults to `to`."""
    async with app.state.sessionmaker() as session, session.begin():
        await send_email(
            session, to=to, template="welcome", context=WELCOME_CONTEXT, idempotency_key=key or to
        )


async def queued_emails(app: FastAPI, template: str) -> list[SentEmail]:
    """The emails of one template logged (and queued for delivery), oldest first."""
    async with app.state.sessionmaker() as session:
        stmt = select(SentEmail).where(SentEmail.template == template)
        return list(await session.scalars(stmt.order_by(SentEmail.created_at)))


# --- engagement: consultations ----------------------------------------------------------------


async def book_next_free_slot(client: AsyncClient, account: Account, topic: str) -> dict[str, Any]:
    """Book the first free consultation slot through the API; returns the booking."""
    slots = (await client.get("/api/consultations/slots")).json()["items"]
    body = {"starts_at": slots[0]["starts_at"], "topic": topic}
    response = await client.post("/api/consultations", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    booking: dict[str, Any] = response.json()
    return booking


async def past_consultation(app: FastAPI, account: Account, days_ago: int, topic: str) -> str:
    """A booking that has already taken place (the API refuses to book the past); its id."""
    starts = utcnow().replace(microsecond=0) - timedelta(days=days_ago)
    booking = Consultation(
        id=uuid.uuid4(),
        user_id=uuid.UUID(account.id),
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        topic=topic,
    )
    async with app.state.sessionmaker() as session, session.begin():
        session.add(booking)
    return str(booking.id)


# --- accounts: emailed links ------------------------------------------------------------------


def emailed_tokens(outbox_dir: Path, to: str, link: str) -> list[str]:
    """The tokens of `<link>?token=...` links emailed to `to` (delivered by the jobs into the
    outbox), oldest first."""
    pattern = re.compile(re.escape(link) + r"\?token=([A-Za-z0-9_-]+)")
    found: list[str] = []
    for eml in sorted(outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        parsed = message_from_bytes(eml.read_bytes(), policy=policy.default)
        if parsed["To"] != to:
            continue
        plain = parsed.get_body(("plain",))
        assert isinstance(plain, EmailMessage)
        found += pattern.findall(plain.get_content())
    return found
