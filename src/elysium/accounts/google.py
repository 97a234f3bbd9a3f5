"""Sign in with Google: the one adapter to the OpenID Connect provider (Authlib and joserfc).

The authorization-code flow with PKCE (S256), `state` and `nonce`; the ID token's signature is
checked against the provider's published keys (JWKS), then its issuer, audience, expiry and
nonce. The provider is found through its discovery document (GOOGLE_DISCOVERY_URL), so tests
point it at a local OpenID provider.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from elysium.config import Settings
from elysium.errors import BadGatewayError, ElysiumError, NotFoundError

SCOPE = "openid email profile"
CALLBACK_PATH = "/api/auth/oauth/google/callback"
_DISCOVERY_TTL_SECONDS = 3600
_TIMEOUT = httpx.Timeout(10.0)
_discovered: dict[str, tuple[float, dict[str, Any]]] = {}


class GoogleSignInError(ElysiumError):
    """The provider's answer could not be trusted (state, nonce, token or signature)."""

    status = 400
    type_slug = "sign-in-failed"
    title = "Sign-in with Google failed"


@dataclass(frozen=True)
class GoogleClaims:
    """What a verified ID token says about the person."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


@dataclass(frozen=True)
class FlowSecrets:
    """Kept by the browser in a signed cookie between start and callback."""

    state: str
    nonce: str
    code_verifier: str


def ensure_enabled(settings: Settings) -> tuple[str, str]:
    """The client id and secret; 404 when Sign in with Google is not configured."""
    if not settings.google_client_id or settings.google_client_secret is None:
        raise NotFoundError("Sign in with Google is not available.")
    return settings.google_client_id, settings.google_client_secret.get_secret_value()


def new_flow() -> FlowSecrets:
    return FlowSecrets(
        state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64)
    )


def redirect_uri(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + CALLBACK_PATH


def _client(settings: Settings) -> AsyncOAuth2Client:
    client_id, secret = ensure_enabled(settings)
    return AsyncOAuth2Client(
        client_id=client_id,
        client_secret=secret,
        scope=SCOPE,
        redirect_uri=redirect_uri(settings),
        code_challenge_method="S256",
        timeout=_TIMEOUT,
    )


async def _get_json(url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
            response = await http.get(url)
            response.raise_for_status()
            body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise BadGatewayError("The sign-in provider could not be reached.") from exc
    if not isinstance(body, dict):
        raise BadGatewayError("The sign-in provider answered unexpectedly.")
    return body


async def provider_metadata(settings: Settings) -> dict[str, Any]:
    """The provider's discovery document, kept for an hour."""
    url = settings.google_discovery_url
    cached = _discovered.get(url)
    if cached is not None and time.monotonic() - cached[0] < _DISCOVERY_TTL_SECONDS:
        return cached[1]
    metadata = await _get_json(url)
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(metadata.get(key), str) for key in needed):
        raise BadGatewayError("The sign-in provider's discovery document is incomplete.")
    _discovered[url] = (time.monotonic(), metadata)
    return metadata


async def authorization_url(settings: Settings, flow: FlowSecrets) -> str:
    """Where to send the browser: the provider's consent page, with PKCE, state and nonce."""
    metadata = await provider_metadata(settings)
    async with _client(settings) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=flow.state,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
        )
    return str(url)


async def exchange_code(settings: Settings, flow: FlowSecrets, code: str) -> GoogleClaims:
    """Trade the code (with the PKCE verifier) for tokens and verify the ID token."""
    metadata = await provider_metadata(settings)
    try:
        async with _client(settings) as client:
            token = await client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=flow.code_verifier,
            )
    except OAuthError as exc:
        raise GoogleSignInError("The sign-in provider refused the code.") from exc
    except httpx.HTTPError as exc:
        raise BadGatewayError("The sign-in provider could not be reached.") from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise GoogleSignInError("The sign-in provider sent no ID token.")
    keys = KeySet.import_key_set(await _get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
    return _verified_claims(id_token, keys, metadata["issuer"], settings, flow.nonce)


def _verified_claims(
    id_token: str, keys: KeySet, issuer: str, settings: Settings, nonce: str
) -> GoogleClaims:
    client_id, _ = ensure_enabled(settings)
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        claims = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"]).claims
        registry.validate(claims)
    except (JoseError, ValueError) as exc:
        raise GoogleSignInError("The ID token did not verify.") from exc
    email = claims.get("email")
    return GoogleClaims(
        subject=str(claims["sub"]),
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        email_verified=claims.get("email_verified") is True,
        name=str(claims["name"])[:200] if claims.get("name") else None,
    )
