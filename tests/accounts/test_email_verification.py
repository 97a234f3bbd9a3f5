"""Email verification by emailed link, and changing the email with the password."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from fastapi import FastAPI
from httpx import AsyncClient

from elysium.config import Settings
from factories import Account, emailed_tokens, make_account, register_customer, unique_email
from job_helpers import run_jobs

NEW_PASSWORD = "garnet-meadow-2027"


def verify_tokens(settings: Settings, to: str) -> list[str]:
    """Tokens of `<PUBLIC_BASE_URL>/verify-email?token=...` links emailed to `to`."""
    link = settings.public_base_url.rstrip("/") + "/verify-email"
    return emailed_tokens(Path(settings.email_outbox_dir), to, link)


def reset_tokens(settings: Settings, to: str) -> list[str]:
    link = settings.public_base_url.rstrip("/") + "/reset-password"
    return emailed_tokens(Path(settings.email_outbox_dir), to, link)


async def session_user(client: AsyncClient, account: Account) -> dict[str, object]:
    response = await client.get("/api/auth/session", headers=account.headers)
    assert response.status_code == 200, response.text
    user: dict[str, object] = response.json()["user"]
    return user


async def confirm(client: AsyncClient, token: str) -> int:
    response = await client.post("/api/auth/verify-email/confirm", json={"token": token})
    return response.status_code


async def test_registration_sends_a_link_that_verifies_the_email_once(
    client: AsyncClient, settings: Settings
) -> None:
    account = await register_customer(client)
    assert (await session_user(client, account))["email_verified"] is False
    await run_jobs()
    [token] = verify_tokens(settings, account.email)

    assert await confirm(client, token) == 204
    assert (await session_user(client, account))["email_verified"] is True
    assert await confirm(client, token) == 422


async def test_a_resent_link_replaces_the_old_one_and_a_verified_email_needs_none(
    client: AsyncClient, settings: Settings
) -> None:
    account = await register_customer(client)
    resent = await client.post("/api/auth/verify-email", headers=account.headers)
    assert resent.status_code == 202
    await run_jobs()
    first, second = verify_tokens(settings, account.email)
    assert await confirm(client, first) == 422
    assert await confirm(client, second) == 204
    again = await client.post("/api/auth/verify-email", headers=account.headers)
    assert again.status_code == 409


async def test_resending_needs_sign_in_and_is_limited_per_account(
    client: AsyncClient, app: FastAPI, settings: Settings
) -> None:
    assert (await client.post("/api/auth/verify-email")).status_code == 401
    account = await make_account(app)
    limit = settings.verification_emails_per_hour
    answers = [
        (await client.post("/api/auth/verify-email", headers=account.headers)).status_code
        for _ in range(limit + 1)
    ]
    assert answers == [202] * limit + [429]


async def test_changing_the_email_needs_the_password_and_a_free_address(
    client: AsyncClient, app: FastAPI
) -> None:
    account = await make_account(app, email_verified=True)
    other = await make_account(app)
    wrong = {"email": unique_email(), "password": "not-the-password-1"}
    response = await client.put("/api/user/email", json=wrong, headers=account.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"
    taken = {"email": other.email.upper(), "password": account.password}
    assert (
        await client.put("/api/user/email", json=taken, headers=account.headers)
    ).status_code == 409
    assert (await session_user(client, account))["email"] == account.email


async def test_a_changed_email_is_verified_again_and_the_old_address_told(
    client: AsyncClient, app: FastAPI, settings: Settings
) -> None:
    account = await make_account(app, email_verified=True)
    await client.post("/api/auth/password-reset", json={"email": account.email})
    await run_jobs()
    [old_reset] = reset_tokens(settings, account.email)
    new_email = unique_email("moved")

    body = {"email": new_email, "password": account.password}
    response = await client.put("/api/user/email", json=body, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == new_email
    assert response.json()["email_verified"] is False
    await run_jobs()

    # the reset link sent to the old address no longer works
    stale = await client.post(
        "/api/auth/password-reset/confirm", json={"token": old_reset, "password": NEW_PASSWORD}
    )
    assert stale.status_code == 422
    notices = _subjects(settings, account.email)
    assert "Your ELYSIUM email address was changed" in notices
    [token] = verify_tokens(settings, new_email)
    assert await confirm(client, token) == 204
    assert (await session_user(client, account))["email_verified"] is True
    signed_in = await client.post(
        "/api/auth/login", json={"email": new_email, "password": account.password}
    )
    assert signed_in.status_code == 200


async def test_a_link_for_a_previous_address_does_not_verify_the_new_one(
    client: AsyncClient, settings: Settings
) -> None:
    account = await register_customer(client)
    await run_jobs()
    [old_link] = verify_tokens(settings, account.email)
    body = {"email": unique_email("moved"), "password": account.password}
    assert (
        await client.put("/api/user/email", json=body, headers=account.headers)
    ).status_code == 200
    assert await confirm(client, old_link) == 422
    assert (await session_user(client, account))["email_verified"] is False


def _subjects(settings: Settings, to: str) -> list[str]:
    subjects = []
    for path in Path(settings.email_outbox_dir).glob("*.eml"):
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        if parsed["To"] == to:
            subjects.append(str(parsed["Subject"]))
    return subjects
