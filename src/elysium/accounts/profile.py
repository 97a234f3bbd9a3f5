"""Profile and address book of the signed-in user."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.accounts.schemas import AddressWrite, ProfileUpdate
from elysium.audit.service import record_event
from elysium.config import Settings
from elysium.errors import ConflictError, NotFoundError
from elysium.models import Address, ContactChannel, ContactTopic, User
from elysium.notifications import preferences

MAX_ADDRESSES = 50


async def update_profile(
    session: AsyncSession, settings: Settings, user: User, data: ProfileUpdate
) -> User:
    """Apply the fields that were sent; a change of marketing consent is recorded as such."""
    for field, value in data.model_dump(exclude_unset=True).items():
        if field == "preferences" and value is None:
            value = {}
        if field == "marketing_opt_in":
            choice = (ContactTopic.MARKETING, ContactChannel.EMAIL, bool(value))
            await preferences.record_choices(session, settings, user, [choice], "profile")
            continue
        setattr(user, field, value)
    await session.flush()
    return user


async def list_addresses(session: AsyncSession, user: User) -> list[Address]:
    """The user's addresses, defaults first."""
    stmt = (
        select(Address)
        .where(Address.user_id == user.id)
        .order_by(Address.is_default.desc(), Address.created_at, Address.id)
    )
    return list((await session.execute(stmt)).scalars())


_OWN_ADDRESS = select(Address).where(
    Address.id == bindparam("address_id"), Address.user_id == bindparam("user_id")
)


async def get_address(session: AsyncSession, user: User, address_id: uuid.UUID) -> Address:
    """One of the user's own addresses; another user's is simply not found."""
    params = {"address_id": address_id, "user_id": user.id}
    address = (await session.execute(_OWN_ADDRESS, params)).scalar_one_or_none()
    if address is None:
        raise NotFoundError("No such address.")
    return address


async def _clear_other_defaults(session: AsyncSession, user: User, address: Address) -> None:
    await session.execute(
        update(Address)
        .where(Address.user_id == user.id, Address.type == address.type, Address.id != address.id)
        .values(is_default=False)
    )


async def add_address(session: AsyncSession, user: User, data: AddressWrite) -> Address:
    """Add an address; the first of its type becomes the default."""
    existing = await list_addresses(session, user)
    if len(existing) >= MAX_ADDRESSES:
        raise ConflictError(f"An account can keep at most {MAX_ADDRESSES} addresses.")
    address = Address(user_id=user.id, **data.model_dump())
    if not any(a.type == address.type for a in existing):
        address.is_default = True
    session.add(address)
    await session.flush()
    if address.is_default:
        await _clear_other_defaults(session, user, address)
    await record_event(
        session, "address.created", actor_id=user.id, target_type="address", target_id=address.id
    )
    return address


async def replace_address(
    session: AsyncSession, user: User, address_id: uuid.UUID, data: AddressWrite
) -> Address:
    """Replace an address's fields."""
    address = await get_address(session, user, address_id)
    for field, value in data.model_dump().items():
        setattr(address, field, value)
    await session.flush()
    if address.is_default:
        await _clear_other_defaults(session, user, address)
    await record_event(
        session, "address.updated", actor_id=user.id, target_type="address", target_id=address.id
    )
    return address


async def delete_address(session: AsyncSession, user: User, address_id: uuid.UUID) -> None:
    """Remove an address (orders keep their own copy)."""
    address = await get_address(session, user, address_id)
    await session.delete(address)
    await session.flush()
    await record_event(
        session, "address.deleted", actor_id=user.id, target_type="address", target_id=address_id
    )
