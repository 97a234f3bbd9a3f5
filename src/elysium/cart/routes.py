"""Cart and saved-configuration endpoints (contract: "Cart, wishlist, configurations").

Signed-in callers use their own cart. Guests get a `cart_token` with their first cart write
(in the body and the `X-Cart-Token` response header) and send it back in `X-Cart-Token`.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status

from elysium.accounts.deps import (
    AnonymousWriteLimit,
    CallerId,
    CouponAttemptLimit,
    OptionalUser,
)
from elysium.cart import configurations, service
from elysium.cart.pricing import CartReadsDep
from elysium.cart.schemas import (
    CartItemCreate,
    CartItemUpdate,
    CartRead,
    ConfigurationSave,
    CouponApply,
    SavedConfigurationLink,
    SavedConfigurationRead,
)
from elysium.cart.service import CartOwner, CartState
from elysium.config import Settings
from elysium.db import SessionDep
from elysium.kit.deps import SettingsDep

router = APIRouter(tags=["cart"])
CART_TOKEN_HEADER = "X-Cart-Token"


CartToken = Annotated[
    str | None,
    Header(max_length=service.MAX_TOKEN_LENGTH, description="A guest's cart token."),
]


async def cart_owner(user: OptionalUser, x_cart_token: CartToken = None) -> CartOwner:
    """The signed-in user, else the guest identified by `X-Cart-Token` (if any)."""
    return CartOwner(None if user is None else user.id, x_cart_token)


async def cart_reader(caller: CallerId, x_cart_token: CartToken = None) -> CartOwner:
    """`cart_owner` for reading the cart, resolved outside any request transaction."""
    return CartOwner(caller, x_cart_token)


Owner = Annotated[CartOwner, Depends(cart_owner)]
Reader = Annotated[CartOwner, Depends(cart_reader)]
ItemId = Annotated[uuid.UUID, Path(description="A line of your cart.")]


def _respond(state: CartState, settings: Settings, response: Response) -> CartRead:
    if state.issued_token is not None:
        response.headers[CART_TOKEN_HEADER] = state.issued_token
    return service.cart_read(state, settings)


Country = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z]{2}$",
        description="Preview delivery to this country (ISO 3166 code): outside the UK VAT "
        "area (GB, IM) every price is charged net of VAT as a zero-rated export.",
    ),
]


@router.get("/api/cart")
async def get_cart(
    owner: Reader, reads: CartReadsDep, settings: SettingsDep, country: Country = None
) -> CartRead:
    """Your cart, every line priced now by the price engine, with availability.

    `shipping` is the default method (insured UK next-day; the international courier with
    `country` outside the UK); an empty cart has `id` null. With `country`, the prices,
    discount, shipping and VAT are those that delivery there would be charged (checkout
    decides by the shipping address).
    """
    state = await service.read_cart(reads, owner, country.upper() if country else None)
    return service.cart_read(state, settings)


@router.post("/api/cart", status_code=status.HTTP_201_CREATED, dependencies=[AnonymousWriteLimit])
async def add_to_cart(
    body: CartItemCreate,
    owner: Owner,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> CartRead:
    """Add a configured piece (1-10 per line, at most 50 lines).

    The same piece in the same configuration (engraving included) adds to its line. 422 names
    any invalid option; 404 for an unknown piece; 409 when there is not enough stock for every
    line of that variant (the cart checks stock but holds none).
    """
    return _respond(await service.add_item(session, owner, body), settings, response)


@router.put("/api/cart/{item_id}", dependencies=[AnonymousWriteLimit])
async def change_quantity(
    item_id: ItemId, body: CartItemUpdate, owner: Owner, session: SessionDep, settings: SettingsDep
) -> CartRead:
    """Set a line's quantity (1-10); 409 when raising it needs stock that is not there."""
    state = await service.set_quantity(session, owner, item_id, body.quantity)
    return service.cart_read(state, settings)


@router.delete("/api/cart/coupon", dependencies=[AnonymousWriteLimit])
async def remove_coupon(owner: Owner, session: SessionDep, settings: SettingsDep) -> CartRead:
    """Take the coupon off your cart."""
    return service.cart_read(await service.remove_coupon(session, owner), settings)


@router.delete("/api/cart/{item_id}", dependencies=[AnonymousWriteLimit])
async def remove_from_cart(
    item_id: ItemId, owner: Owner, session: SessionDep, settings: SettingsDep
) -> CartRead:
    """Remove one line; 404 when it is not in your cart. Answers with the cart."""
    return service.cart_read(await service.remove_item(session, owner, item_id), settings)


@router.delete("/api/cart", dependencies=[AnonymousWriteLimit])
async def empty_cart(owner: Owner, session: SessionDep, settings: SettingsDep) -> CartRead:
    """Empty your cart (lines and coupon). Answers with the (empty) cart."""
    return service.cart_read(await service.clear_cart(session, owner), settings)


@router.post("/api/cart/coupon", dependencies=[CouponAttemptLimit])
async def apply_coupon(
    body: CouponApply, owner: Owner, session: SessionDep, settings: SettingsDep
) -> CartRead:
    """Apply a coupon code (any letter case); 422 when unknown, expired or not applicable.

    The discount is worked out afresh on every read; if the cart changes so that the coupon no
    longer applies, `discount` is zero and `coupon_problem` says why.
    """
    return service.cart_read(await service.apply_coupon(session, owner, body.code), settings)


@router.post(
    "/api/cart/save-configuration",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AnonymousWriteLimit],
)
async def save_configuration(
    body: ConfigurationSave, session: SessionDep, settings: SettingsDep
) -> SavedConfigurationLink:
    """Save a configuration to share: a short unguessable `code` and the storefront `url`.

    422 when the configuration is not valid for the piece.
    """
    return await configurations.save_configuration(session, settings, body)


@router.get("/api/configurations/{code}")
async def get_configuration(
    code: Annotated[str, Path(max_length=32)], session: SessionDep, settings: SettingsDep
) -> SavedConfigurationRead:
    """A saved configuration with its current price and availability; 404 when unknown."""
    return await configurations.get_configuration(session, settings, code)
