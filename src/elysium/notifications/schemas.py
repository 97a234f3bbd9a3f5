"""In-app notifications on the wire."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from elysium.kit.schemas import Strict
from elysium.models import ContactChannel, ContactTopic, Priority


class NotificationRead(BaseModel):
    """One notification; `read_at` is null while unread."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    read_at: datetime | None
    priority: Priority
    expires_at: datetime | None = Field(description="Not listed after this moment.")
    created_at: datetime


class MarkedRead(BaseModel):
    """How many notifications were marked read."""

    marked_read: int


class ContactPreferenceRead(BaseModel):
    """Whether the house may write about `topic` on `channel`."""

    topic: ContactTopic
    channel: ContactChannel
    enabled: bool
    always_on: bool = Field(description="Order updates and legal notices are always sent.")


class ContactPreferencesRead(BaseModel):
    preferences: list[ContactPreferenceRead]
    text_version: str = Field(description="The version of the consent wording shown.")


class ContactPreferenceWrite(Strict):
    topic: ContactTopic
    channel: ContactChannel
    enabled: bool


class ContactPreferencesUpdate(Strict):
    preferences: list[ContactPreferenceWrite] = Field(min_length=1, max_length=16)


class Unsubscribed(BaseModel):
    """What the link switched off."""

    unsubscribed: ContactTopic
    channel: ContactChannel = ContactChannel.EMAIL
