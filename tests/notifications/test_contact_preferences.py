"""Contact preferences per topic and channel, consent records, one-click unsubscribe, and the
priority and expiry of in-app notifications."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from elysium.config import get_settings
from elysium.kit.clock import utcnow
from elysium.models import ContactTopic, Priority
from elysium.notifications.preferences import unsubscribe_url
from elysium.notifications.service import notify_user
from factories import Account

PATH = "/api/user/contact-preferences"


def choices(body: dict[str, object]) -> dict[tuple[str, str], bool]:
    items = body["preferences"]
    assert isinstance(items, list)
    return {(p["topic"], p["channel"]): p["enabled"] for p in items}


async def test_defaults_and_changes_are_recorded_as_consent(
    client: AsyncClient, customer: Account
) -> None:
    shown = await client.get(PATH, headers=customer.headers)
    assert shown.status_code == 200
    assert shown.json()["text_version"]
    assert choices(shown.json()) == {
        ("order_updates", "email"): True,
        ("order_updates", "in_app"): True,
        ("appointments", "email"): True,
        ("appointments", "in_app"): True,
        ("wishlist", "email"): True,
        ("wishlist", "in_app"): True,
        ("marketing", "email"): False,
        ("marketing", "in_app"): False,
    }
    change = {
        "preferences": [
            {"topic": "marketing", "channel": "email", "enabled": True},
            {"topic": "wishlist", "channel": "in_app", "enabled": False},
            {"topic": "appointments", "channel": "email", "enabled": True},  # no change
        ]
    }
    changed = await client.put(PATH, json=change, headers=customer.headers)
    assert changed.status_code == 200, changed.text
    now = choices(changed.json())
    assert now[("marketing", "email")] is True
    assert now[("wishlist", "in_app")] is False
    profile = (await client.get("/api/user/profile", headers=customer.headers)).json()
    assert profile["marketing_opt_in"] is True  # the same consent, seen from the profile

    off = {"marketing_opt_in": False}
    assert (await client.put("/api/user/profile", json=off, headers=customer.headers)).is_success
    export = (await client.get("/api/user/export", headers=customer.headers)).json()
    records = [
        (r["topic"], r["channel"], r["granted"], r["source"]) for r in export["consent_records"]
    ]
    assert records == [
        ("marketing", "email", True, "account"),
        ("wishlist", "in_app", False, "account"),
        ("marketing", "email", False, "profile"),
    ]
    assert all(r["text_version"] and r["recorded_at"] for r in export["consent_records"])
    assert {(p["topic"], p["channel"]) for p in export["contact_preferences"]} == {
        ("marketing", "email"),
        ("wishlist", "in_app"),
    }


async def test_order_updates_cannot_be_switched_off(client: AsyncClient, customer: Account) -> None:
    body = {"preferences": [{"topic": "order_updates", "channel": "email", "enabled": False}]}
    refused = await client.put(PATH, json=body, headers=customer.headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    bad_bodies: list[dict[str, object]] = [
        {"preferences": [{"topic": "gossip", "channel": "email", "enabled": False}]},
        {"preferences": [{"topic": "wishlist", "channel": "pigeon", "enabled": False}]},
        {"preferences": []},
        {},
    ]
    for bad in bad_bodies:
        assert (await client.put(PATH, json=bad, headers=customer.headers)).status_code == 422
    assert (await client.get(PATH)).status_code == 401
    export = (await client.get("/api/user/export", headers=customer.headers)).json()
    assert export["consent_records"] == []


async def test_one_click_unsubscribe_works_without_signing_in(
    client: AsyncClient, customer: Account
) -> None:
    on = {"preferences": [{"topic": "marketing", "channel": "email", "enabled": True}]}
    assert (await client.put(PATH, json=on, headers=customer.headers)).status_code == 200
    url = unsubscribe_url(get_settings(), uuid.UUID(customer.id), ContactTopic.MARKETING)
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = await client.get(f"/{path}")
    assert response.status_code == 200, response.text
    assert response.json()["unsubscribed"] == "marketing"
    assert (await client.post(f"/{path}")).status_code == 200  # again: harmless
    shown = choices((await client.get(PATH, headers=customer.headers)).json())
    assert shown[("marketing", "email")] is False
    export = (await client.get("/api/user/export", headers=customer.headers)).json()
    assert [r["source"] for r in export["consent_records"]] == ["account", "unsubscribe_link"]

    forged = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert (await client.get(f"/{forged}")).status_code == 404
    assert (await client.get("/api/unsubscribe/not-a-token")).status_code == 404


async def test_expired_notifications_are_not_listed(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    user_id = uuid.UUID(customer.id)
    async with app.state.sessionmaker() as session, session.begin():
        await notify_user(session, user_id, "sale", "Gone", "Over.", expires_at=utcnow())
        await notify_user(
            session,
            user_id,
            "sale",
            "Soon",
            "Still on.",
            priority=Priority.HIGH,
            expires_at=utcnow() + timedelta(hours=1),
        )
        await notify_user(session, user_id, "order_status", "Kept", "No expiry.")
    items = (await client.get("/api/notifications", headers=customer.headers)).json()["items"]
    assert [(n["title"], n["priority"]) for n in items] == [("Kept", "normal"), ("Soon", "high")]
