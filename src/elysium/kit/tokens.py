"""Opaque random tokens (sign-in sessions, guest carts) and what is stored for them."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A random opaque token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored for a token: its SHA-256, so a database leak reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
