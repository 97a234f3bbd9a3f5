"""Password reset by emailed link: no enumeration, single use, an hour, newest link only,
every session ended, audited, rate-limited per address and per IP."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update

from elysium.config import Settings
from elysium.kit.clock import utcnow
from elysium.models import AccountToken, AuditEvent, SentEmail, User
from factories import Account, emailed_tokens, make_account, unique_email
from job_helpers import jobs_by_task, run_jobs

NEW_PASSWORD = "garnet-meadow-2027"
RESET = "/reset-password"


def reset_tokens(settings: Settings, to: str) -> list[str]:
    """Tokens of `<PUBLIC_BASE_URL>/reset-password?token=...` links emailed to `to`."""
    link = settings.public_base_url.rstrip("/") + RESET
    return emailed_tokens(Path(settings.email_outbox_dir), to, link)


async def ask_reset(client: AsyncClient, email: str) -> None:
    response = await client.post("/api/auth/password-reset", json={"email": email})
    assert response.status_code == 202, response.text


async def test_known_and_unknown_addresses_get_the_same_answer_and_work(
    app: FastAPI, client: AsyncClient, settings: Settings, customer: Account
) -> None:
    unknown = unique_email()
    known_answer = await client.post("/api/auth/password-reset", json={"email": customer.email})
    unknown_answer = await client.post("/api/auth/password-reset", json={"email": unknown})
    assert known_answer.status_code == unknown_answer.status_code == 202
    assert known_answer.json() == unknown_answer.json()
    assert known_answer.headers.get("set-cookie") is None
    # the same work for both: one queued job each, the account looked up only by the job
    assert len(await jobs_by_task(app.state.engine, "send_password_reset")) == 2
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(AccountToken.id)) is None

    await run_jobs()

    [token] = reset_tokens(settings, customer.email)
    assert reset_tokens(settings, unknown) == []
    assert len(token) >= 40


async def test_the_link_sets_the_password_once_ends_every_session_and_is_audited(
    app: FastAPI, client: AsyncClient, settings: Settings, customer: Account
) -> None:
    await ask_reset(client, customer.email.upper())
    await run_jobs()
    [token] = reset_tokens(settings, customer.email)

    confirm = {"token": token, "password": NEW_PASSWORD}
    response = await client.post("/api/auth/password-reset/confirm", json=confirm)
    assert response.status_code == 204, response.text

    assert (await client.get("/api/auth/session", headers=customer.headers)).status_code == 401
    old = {"email": customer.email, "password": customer.password}
    assert (await client.post("/api/auth/login", json=old)).status_code == 401
    new = {"email": customer.email, "password": NEW_PASSWORD}
    signed_in = await client.post("/api/auth/login", json=new)
    assert signed_in.status_code == 200
    # the link proved the address
    assert signed_in.json()["user"]["email_verified"] is True

    again = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": "another-one-2028"}
    )
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "token"
    async with app.state.sessionmaker() as session:
        actions = set(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.target_id == customer.id)
            )
        )
    assert "user.password_reset" in actions


async def test_tokens_are_stored_hashed_and_the_sent_email_keeps_no_link(
    app: FastAPI, client: AsyncClient, settings: Settings, customer: Account
) -> None:
    await ask_reset(client, customer.email)
    await run_jobs()
    [token] = reset_tokens(settings, customer.email)
    async with app.state.sessionmaker() as session:
        [stored] = (await session.scalars(select(AccountToken))).all()
        [email] = (
            await session.scalars(select(SentEmail).where(SentEmail.template == "password_reset"))
        ).all()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert stored.expires_at - stored.created_at == timedelta(minutes=60)
    assert (email.status, email.context) == ("sent", None)


async def test_a_newer_request_kills_the_older_link(
    client: AsyncClient, settings: Settings, customer: Account
) -> None:
    await ask_reset(client, customer.email)
    await run_jobs()
    await ask_reset(client, customer.email)
    await run_jobs()
    first, second = reset_tokens(settings, customer.email)

    stale = await client.post(
        "/api/auth/password-reset/confirm", json={"token": first, "password": NEW_PASSWORD}
    )
    assert stale.status_code == 422
    fresh = await client.post(
        "/api/auth/password-reset/confirm", json={"token": second, "password": NEW_PASSWORD}
    )
    assert fresh.status_code == 204


async def test_an_expired_link_is_refused(
    app: FastAPI, client: AsyncClient, settings: Settings, customer: Account
) -> None:
    await ask_reset(client, customer.email)
    await run_jobs()
    [token] = reset_tokens(settings, customer.email)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert response.status_code == 422
    signed_in = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    assert signed_in.status_code == 200


async def test_a_weak_password_is_refused_and_the_link_still_works(
    client: AsyncClient, settings: Settings, customer: Account
) -> None:
    await ask_reset(client, customer.email)
    await run_jobs()
    [token] = reset_tokens(settings, customer.email)
    weak = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": "password123"}
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "password"
    assert (await client.get("/api/auth/session", headers=customer.headers)).status_code == 200
    good = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert good.status_code == 204


async def test_an_unknown_token_is_refused(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/password-reset/confirm", json={"token": "x" * 43, "password": NEW_PASSWORD}
    )
    assert response.status_code == 422


async def test_requests_are_limited_per_address(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    known = await make_account(app)
    for email in (known.email, unique_email()):
        answers = [
            (await client.post("/api/auth/password-reset", json={"email": email})).status_code
            for _ in range(settings.password_resets_per_email_per_hour + 1)
        ]
        assert answers == [202] * settings.password_resets_per_email_per_hour + [429]


async def test_requests_are_limited_per_ip(client: AsyncClient, settings: Settings) -> None:
    limit = settings.password_resets_per_ip_per_hour
    answers = [
        (await client.post("/api/auth/password-reset", json={"email": unique_email()})).status_code
        for _ in range(limit + 1)
    ]
    assert answers == [202] * limit + [429]
    other_ip = {"email": unique_email()}
    # another address from the same client is still refused; the limit is the client's
    assert (await client.post("/api/auth/password-reset", json=other_ip)).status_code == 429


async def test_a_link_used_by_several_requests_at_once_works_once(
    client: AsyncClient, settings: Settings, customer: Account
) -> None:
    await ask_reset(client, customer.email)
    await run_jobs()
    [token] = reset_tokens(settings, customer.email)
    answers = await asyncio.gather(
        *(
            client.post(
                "/api/auth/password-reset/confirm",
                json={"token": token, "password": f"{NEW_PASSWORD}-{i}"},
            )
            for i in range(5)
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [204, 422, 422, 422, 422]


async def test_a_suspended_account_gets_no_link(
    app: FastAPI, client: AsyncClient, settings: Settings, customer: Account
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(User).where(User.email == customer.email).values(is_active=False)
        )
    await ask_reset(client, customer.email)
    await run_jobs()
    assert reset_tokens(settings, customer.email) == []
