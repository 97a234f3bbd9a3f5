"""Opaque random tokens (sign-in sessions, guest carts) and what is stored for them."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """A random opaque token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored for a token: its SHA-256, so a database leak reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, purpose: str, value: str) -> str:
    """An HMAC-SHA256 of `value` under SECRET_KEY, bound to one `purpose` (CSRF, links...)."""
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, purpose: str, value: str, signature: str) -> bool:
    """Constant-time check of a signature made by `sign`."""
    return hmac.compare_digest(sign(secret, purpose, value), signature)
