"""Contact preferences per topic and channel, with a consent record for every change.

No row means the topic's default: everything but marketing is on; marketing by email follows
the account's `marketing_opt_in` (kept in step with it), marketing in-app is off. Order updates
(and legal notices, which have no topic) are always sent and cannot be switched off.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings
from elysium.db import insert_new
from elysium.errors import NotFoundError, ValidationFailedError
from elysium.kit.signing import sign, unsign
from elysium.models import ConsentRecord, ContactChannel, ContactPreference, ContactTopic, User
from elysium.notifications.schemas import (
    ContactPreferenceRead,
    ContactPreferencesRead,
    ContactPreferenceWrite,
)

ALWAYS_ON = frozenset({ContactTopic.ORDER_UPDATES})
UNSUBSCRIBE = "unsubscribe"
Choice = tuple[ContactTopic, ContactChannel]


def _default(topic: ContactTopic, channel: ContactChannel, marketing_opt_in: bool) -> bool:
    if topic is ContactTopic.MARKETING:
        return marketing_opt_in and channel is ContactChannel.EMAIL
    return True


async def _stored(session: AsyncSession, user_id: uuid.UUID) -> dict[Choice, bool]:
    rows = await session.execute(
        select(ContactPreference.topic, ContactPreference.channel, ContactPreference.enabled).where(
            ContactPreference.user_id == user_id
        )
    )
    return {(topic, channel): enabled for topic, channel, enabled in rows}


async def may_contact(
    session: AsyncSession, user_id: uuid.UUID, topic: ContactTopic, channel: ContactChannel
) -> bool:
    """Whether the client allows `topic` on `channel` (always, for order updates)."""
    if topic in ALWAYS_ON:
        return True
    row = await session.execute(
        select(User.marketing_opt_in, ContactPreference.enabled)
        .outerjoin(
            ContactPreference,
            (ContactPreference.user_id == User.id)
            & (ContactPreference.topic == topic)
            & (ContactPreference.channel == channel),
        )
        .where(User.id == user_id, User.deleted_at.is_(None))
    )
    found = row.first()
    if found is None:
        return False
    opt_in, enabled = found
    return _default(topic, channel, opt_in) if enabled is None else bool(enabled)


async def read_preferences(
    session: AsyncSession, settings: Settings, user: User
) -> ContactPreferencesRead:
    """Every topic on every channel, as the client has chosen or by default."""
    stored = await _stored(session, user.id)
    items = [
        ContactPreferenceRead(
            topic=topic,
            channel=channel,
            enabled=topic in ALWAYS_ON
            or stored.get((topic, channel), _default(topic, channel, user.marketing_opt_in)),
            always_on=topic in ALWAYS_ON,
        )
        for topic in ContactTopic
        for channel in ContactChannel
    ]
    return ContactPreferencesRead(preferences=items, text_version=settings.consent_text_version)


async def record_choices(
    session: AsyncSession,
    settings: Settings,
    user: User,
    choices: Iterable[tuple[ContactTopic, ContactChannel, bool]],
    source: str,
) -> int:
    """Store each choice that changes something, with its consent record; returns how many."""
    shown = await read_preferences(session, settings, user)
    current = {(p.topic, p.channel): p.enabled for p in shown.preferences}
    changed = 0
    for topic, channel, enabled in choices:
        if current[(topic, channel)] == enabled:
            continue
        current[(topic, channel)] = enabled
        changed += 1
        await session.execute(
            insert(ContactPreference)
            .values(user_id=user.id, topic=topic, channel=channel, enabled=enabled)
            .on_conflict_do_update(
                index_elements=["user_id", "topic", "channel"],
                set_={"enabled": enabled, "updated_at": func.now()},
            )
        )
        await insert_new(
            session,
            ConsentRecord(
                user_id=user.id,
                topic=topic,
                channel=channel,
                granted=enabled,
                source=source,
                text_version=settings.consent_text_version,
            ),
        )
        if (topic, channel) == (ContactTopic.MARKETING, ContactChannel.EMAIL):
            user.marketing_opt_in = enabled
    await session.flush()
    return changed


async def update_preferences(
    session: AsyncSession,
    settings: Settings,
    user: User,
    changes: list[ContactPreferenceWrite],
    source: str = "account",
) -> ContactPreferencesRead:
    """Apply the client's choices; 422 when one would silence order updates."""
    for index, change in enumerate(changes):
        if change.topic in ALWAYS_ON and not change.enabled:
            raise ValidationFailedError(
                "Order updates and legal notices are always sent.",
                errors=[{"field": f"preferences.{index}.enabled", "message": "Always on."}],
            )
    await record_choices(
        session, settings, user, [(c.topic, c.channel, c.enabled) for c in changes], source
    )
    return await read_preferences(session, settings, user)


def unsubscribe_token(settings: Settings, user_id: uuid.UUID, topic: ContactTopic) -> str:
    """A token that switches `topic` emails off for the user, no sign-in needed."""
    return sign(settings.secret_key.get_secret_value(), UNSUBSCRIBE, f"{user_id.hex}-{topic}")


def unsubscribe_url(settings: Settings, user_id: uuid.UUID, topic: ContactTopic) -> str:
    base = settings.public_base_url.rstrip("/")
    return f"{base}/api/unsubscribe/{unsubscribe_token(settings, user_id, topic)}"


async def unsubscribe(session: AsyncSession, settings: Settings, token: str) -> ContactTopic:
    """Switch off the emails a signed unsubscribe token names; 404 for a forged token."""
    payload = unsign(settings.secret_key.get_secret_value(), UNSUBSCRIBE, token)
    user_hex, _, topic_name = (payload or "").partition("-")
    try:
        user_id, topic = uuid.UUID(hex=user_hex), ContactTopic(topic_name)
    except ValueError:
        user_id, topic = None, None
    user = None if user_id is None else await session.get(User, user_id)
    if topic is None or topic in ALWAYS_ON or user is None or user.deleted_at is not None:
        raise NotFoundError("This unsubscribe link is not valid.")
    await record_choices(
        session, settings, user, [(topic, ContactChannel.EMAIL, False)], "unsubscribe_link"
    )
    return topic
