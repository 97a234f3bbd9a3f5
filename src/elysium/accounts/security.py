"""Passwords (argon2id) and TOTP codes; opaque tokens are `elysium.kit.tokens`."""

from __future__ import annotations

import gzip
import hmac
import secrets
from datetime import datetime
from functools import lru_cache
from importlib import resources

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
# argon2id with OWASP's recommended cost (19 MiB, 2 passes, 1 lane): ~20 ms a hash here, so a
# burst of sign-ins cannot starve the two cores; older hashes are upgraded at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time on a dummy one (no timing oracle)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    blob = resources.files("elysium.accounts").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(blob).decode().splitlines())


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Why a password is too weak, or an empty list when it is acceptable."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if password.lower() in _common_passwords():
        problems.append("is too common")
    if email and password.lower() == email.lower():
        problems.append("must not be your email address")
    return problems


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="ELYSIUM")


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code `code` is (the current one or one either side, for clock drift).

    The caller refuses a step already used, so that a code is accepted once (RFC 6238 5.2).
    """
    code = code.strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
