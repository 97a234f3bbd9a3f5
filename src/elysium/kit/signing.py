"""Short tokens signed with SECRET_KEY (HMAC-SHA256), for links that work without signing in."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _mac(secret: str, purpose: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}\x00{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, purpose: str, payload: str) -> str:
    """`payload.signature`; the purpose is signed too, so a token for one use fits no other."""
    if "." in payload:
        raise ValueError("the payload must not contain '.'")
    return f"{payload}.{_mac(secret, purpose, payload)}"


def unsign(secret: str, purpose: str, token: str) -> str | None:
    """The payload of a token this secret signed for `purpose`, else None."""
    payload, _, signature = token.rpartition(".")
    if not payload or not signature:
        return None
    expected = _mac(secret, purpose, payload)
    return payload if hmac.compare_digest(expected.encode(), signature.encode()) else None
