"""`elysium user ...`: account administration from the shell."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from elysium.accounts import two_factor
from elysium.accounts.service import create_user, find_user_by_email
from elysium.audit.service import record_event
from elysium.config import get_settings
from elysium.db import create_engine, create_sessionmaker
from elysium.errors import ElysiumError
from elysium.models.user import Role

user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


async def _create(email: str, password: str, name: str | None, role: Role) -> str:
    engine = create_engine(get_settings())
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            user = await create_user(session, email, password, name, role)
            await record_event(
                session,
                "user.created_by_cli",
                actor_id=None,
                target_type="user",
                target_id=user.id,
                details={"role": str(role)},
            )
            return str(user.id)
    finally:
        await engine.dispose()


@user_app.command("create")
def create(
    email: Annotated[str, typer.Option(help="Email address (case-insensitive).")],
    password: Annotated[str, typer.Option(help="At least 10 characters, not a common one.")],
    role: Annotated[str, typer.Option(help="customer, staff or admin.")] = "customer",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create an account with any role."""
    if role not in list(Role):
        raise typer.BadParameter("role must be customer, staff or admin", param_hint="--role")
    try:
        user_id = asyncio.run(_create(email, password, name, Role(role)))
    except ElysiumError as exc:
        typer.echo(f"error: {exc.detail} {exc.errors or ''}".strip(), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created {role} {email.strip().lower()} ({user_id})")


async def _reset_2fa(email: str) -> bool:
    engine = create_engine(get_settings())
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            user = await find_user_by_email(session, email)
            if user is None:
                return False
            await two_factor.reset(session, user, None, via="cli")
            return True
    finally:
        await engine.dispose()


@user_app.command("reset-2fa")
def reset_2fa(
    email: Annotated[str, typer.Option(help="The account whose device was lost.")],
) -> None:
    """Turn off two-factor for a lost device; the account's sessions end. Audited."""
    if not asyncio.run(_reset_2fa(email)):
        typer.echo(f"error: no account with email {email.strip().lower()}", err=True)
        raise typer.Exit(1)
    typer.echo(f"two-factor reset for {email.strip().lower()}; sign in and enrol again")
