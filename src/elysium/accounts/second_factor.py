"""The second factor at sign-in: a TOTP code accepted once, or an unused recovery code."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.accounts import security
from elysium.db import rows_affected
from elysium.kit.clock import utcnow
from elysium.kit.tokens import hash_token
from elysium.models import RecoveryCode, User

RECOVERY_CODE_COUNT = 10
# Ten characters from an alphabet without look-alikes, shown as two groups of five.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_recovery_codes() -> list[str]:
    """Ten fresh one-time codes, e.g. `k7m2p-x9qr4`, to show the user once."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_code_hash(code: str) -> str:
    """What is stored for a recovery code: the hash of its canonical form."""
    return hash_token(code.strip().lower().replace("-", "").replace(" ", ""))


async def accept_totp(session: AsyncSession, user: User, code: str) -> bool:
    """True when `code` is a valid TOTP code of a step not used before; that step is then used.

    The conditional UPDATE makes two concurrent sign-ins with one code accept it only once.
    """
    if user.totp_secret is None:
        return False
    step = security.totp_step(user.totp_secret, code, utcnow())
    if step is None:
        return False
    result = await session.execute(
        update(User)
        .where(
            User.id == user.id,
            (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if rows_affected(result) != 1:
        return False
    user.totp_last_step = step
    return True


async def accept_recovery_code(session: AsyncSession, user: User, code: str) -> bool:
    """True when `code` is one of the user's unused recovery codes; it is then used up."""
    if len(code) > 40:
        return False
    result = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == recovery_code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    return rows_affected(result) == 1


async def accept_second_factor(session: AsyncSession, user: User, code: str) -> bool:
    """A TOTP code (six digits) or a recovery code, each accepted once."""
    if code.strip().isdigit():
        return await accept_totp(session, user, code)
    return await accept_recovery_code(session, user, code)


async def recovery_codes_left(session: AsyncSession, user: User) -> int:
    """How many unused recovery codes the user still has."""
    stmt = select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return len((await session.execute(stmt)).all())
