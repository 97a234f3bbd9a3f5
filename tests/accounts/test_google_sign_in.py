"""Sign in with Google end to end against a local OpenID provider (oidc-provider-mock), which a
small WSGI wrapper makes enforce PKCE and lets a test forge the nonce or the signing keys."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import oidc_provider_mock
import pytest
import werkzeug.serving
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from joserfc.jwk import KeySet, RSAKey
from pydantic import SecretStr
from sqlalchemy import func, select

from elysium.app import create_app
from elysium.config import Settings
from elysium.models import SentEmail, User, UserIdentity
from factories import make_account, unique_email

CLIENT_ID = "elysium-test-client"
StartResponse = Any


@dataclass
class Provider:
    """The local provider's address and the knobs of its wrapper."""

    url: str = ""
    challenges: set[str] = field(default_factory=set)
    verified: list[str] = field(default_factory=list)
    forge_nonce: bool = False
    foreign_keys: bool = False


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _wrap(app: Any, provider: Provider) -> Any:
    """PKCE enforced (S256 challenge at /authorize, its verifier at /token), plus forgeries."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == "/oauth2/authorize":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if query.get("code_challenge_method") == ["S256"]:
                provider.challenges.add(query["code_challenge"][0])
            if provider.forge_nonce:
                query["nonce"] = ["forged-nonce"]
                environ["QUERY_STRING"] = urlencode(query, doseq=True)
        elif path == "/oauth2/token":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            verifier = parse_qs(body.decode()).get("code_verifier", [""])[0]
            if _s256(verifier) not in provider.challenges:
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [b'{"error": "invalid_grant", "error_description": "PKCE"}']
            provider.verified.append(verifier)
        elif path == "/jwks" and provider.foreign_keys:
            other = KeySet([RSAKey.generate_key(2048, private=True)])
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(other.as_dict(private=False)).encode()]
        return app(environ, start_response)  # type: ignore[no-any-return]

    return wrapped


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    state = Provider()
    wsgi = _wrap(oidc_provider_mock.app(require_nonce=True), state)
    server = werkzeug.serving.make_server("localhost", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    state.url = f"http://localhost:{server.server_port}"
    try:
        yield state
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def fresh_provider(provider: Provider) -> Iterator[Provider]:
    yield provider
    provider.forge_nonce = provider.foreign_keys = False


@pytest.fixture
async def google(
    app: FastAPI, settings: Settings, fresh_provider: Provider
) -> AsyncIterator[AsyncClient]:
    """A client of an app with Sign in with Google pointed at the local provider (same database;
    `app` is requested so the tables are emptied first)."""
    configured = settings.model_copy(
        update={
            "google_client_id": CLIENT_ID,
            "google_client_secret": SecretStr("test-secret"),
            "google_discovery_url": f"{fresh_provider.url}/.well-known/openid-configuration",
        }
    )
    other = create_app(configured)
    async with LifespanManager(other):
        transport = ASGITransport(app=other, client=("203.0.113.20", 50000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def person(provider: Provider, **claims: object) -> str:
    """A person known to the provider; their subject."""
    sub = f"google-{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient() as http:
        response = await http.put(f"{provider.url}/users/{sub}", json=claims)
    assert response.status_code == 204, response.text
    return sub


async def consent(authorize_url: str, sub: str) -> httpx.URL:
    """The person picks their account on the provider's page; where they are sent back to."""
    async with httpx.AsyncClient() as browser:
        response = await browser.post(authorize_url, data={"sub": sub})
    assert response.status_code == 302, response.text
    return httpx.URL(response.headers["location"])


async def google_sign_in(http: AsyncClient, sub: str) -> httpx.Response:
    start = await http.get("/api/auth/oauth/google/start")
    assert start.status_code == 302, start.text
    back = await consent(start.headers["location"], sub)
    assert back.path == "/api/auth/oauth/google/callback", str(back)
    return await http.get(back.path, params=dict(back.params))


async def session_user(http: AsyncClient) -> dict[str, Any]:
    response = await http.get("/api/auth/session")
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


async def identities(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(UserIdentity)) or 0


async def test_it_is_off_when_not_configured(client: AsyncClient) -> None:
    for path in ("/api/auth/oauth/google/start", "/api/auth/oauth/google/callback?code=x"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


async def test_start_redirects_with_pkce_state_and_nonce_in_a_signed_cookie(
    google: AsyncClient, fresh_provider: Provider
) -> None:
    start = await google.get("/api/auth/oauth/google/start")
    assert start.status_code == 302
    location = httpx.URL(start.headers["location"])
    assert str(location).startswith(f"{fresh_provider.url}/oauth2/authorize")
    params = dict(location.params)
    assert params["code_challenge_method"] == "S256"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == "http://127.0.0.1:8000/api/auth/oauth/google/callback"
    assert "openid" in params["scope"].split()
    assert len(params["state"]) >= 30
    assert len(params["nonce"]) >= 30
    cookie = start.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "path=/api/auth/oauth/google" in cookie
    assert "samesite=lax" in cookie


async def test_a_new_client_signs_in_and_gets_a_verified_account(
    app: FastAPI, google: AsyncClient, fresh_provider: Provider
) -> None:
    email = unique_email("google")
    sub = await person(fresh_provider, email=email, email_verified=True, name="Grace Client")
    back = await google_sign_in(google, sub)
    assert back.status_code == 302, back.text
    assert back.headers["location"] == app.state.settings.public_base_url
    assert app.state.settings.session_cookie_name in back.cookies
    user = await session_user(google)
    assert (user["email"], user["name"], user["email_verified"]) == (email, "Grace Client", True)
    assert len(fresh_provider.verified) >= 1  # the token request carried the PKCE verifier
    async with app.state.sessionmaker() as session:
        [identity] = (await session.scalars(select(UserIdentity))).all()
        welcomed = await session.scalar(
            select(func.count()).where(SentEmail.to == email, SentEmail.template == "welcome")
        )
    assert (identity.subject, str(identity.user_id)) == (sub, user["id"])
    assert welcomed == 1

    google.cookies.clear()  # the same person again: the same account, by subject
    assert (await google_sign_in(google, sub)).status_code == 302
    assert (await session_user(google))["id"] == user["id"]
    assert await identities(app) == 1


async def test_an_existing_account_is_linked_only_when_google_verified_the_email(
    app: FastAPI, google: AsyncClient, fresh_provider: Provider
) -> None:
    account = await make_account(app)
    unverified = await person(fresh_provider, email=account.email, email_verified=False)
    refused = await google_sign_in(google, unverified)
    assert refused.status_code == 403
    assert app.state.settings.session_cookie_name not in refused.cookies
    assert await identities(app) == 0

    verified = await person(fresh_provider, email=account.email.upper(), email_verified=True)
    linked = await google_sign_in(google, verified)
    assert linked.status_code == 302, linked.text
    user = await session_user(google)
    assert (user["id"], user["email_verified"]) == (account.id, True)
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_a_callback_without_the_flow_cookie_or_with_another_state_is_refused(
    app: FastAPI, google: AsyncClient, fresh_provider: Provider
) -> None:
    sub = await person(fresh_provider, email=unique_email("g"), email_verified=True)
    start = await google.get("/api/auth/oauth/google/start")
    back = await consent(start.headers["location"], sub)
    params = dict(back.params)
    path = "/api/auth/oauth/google/callback"

    wrong_state = await google.get(path, params=params | {"state": "x" * 43})
    assert wrong_state.status_code == 400
    cookie_name = "elysium_oauth"
    genuine = google.cookies.get(cookie_name, path="/api/auth/oauth/google")
    assert genuine is not None
    google.cookies.clear()
    assert (await google.get(path, params=params)).status_code == 400  # another browser
    forged = genuine[:-4] + ("0000" if not genuine.endswith("0000") else "1111")
    google.cookies.set(cookie_name, forged, path="/api/auth/oauth/google")
    assert (await google.get(path, params=params)).status_code == 400
    assert await identities(app) == 0


async def test_an_id_token_with_another_nonce_or_not_signed_by_the_provider_is_refused(
    app: FastAPI, google: AsyncClient, fresh_provider: Provider
) -> None:
    sub = await person(fresh_provider, email=unique_email("g"), email_verified=True)
    fresh_provider.forge_nonce = True
    replayed = await google_sign_in(google, sub)
    assert replayed.status_code == 400
    assert replayed.json()["type"].endswith("/sign-in-failed")
    assert replayed.json()["detail"] == "The ID token did not verify."

    fresh_provider.forge_nonce, fresh_provider.foreign_keys = False, True
    unsigned = await google_sign_in(google, sub)
    assert unsigned.status_code == 400
    assert unsigned.json()["detail"] == "The ID token did not verify."
    assert await identities(app) == 0

    fresh_provider.foreign_keys = False
    assert (await google_sign_in(google, sub)).status_code == 302
