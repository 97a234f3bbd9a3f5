"""`elysium catalog import|sync`: the catalogue from the shell."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from elysium.catalog.importer import ApplyResult
from elysium.catalog.records import ImportBatch
from elysium.catalog.sanity import SanityError
from elysium.catalog.sync import SyncResult, import_ndjson, sanity_client, sync_catalog
from elysium.config import get_settings
from elysium.db import create_engine, create_sessionmaker
from elysium.errors import ElysiumError

catalog_app = typer.Typer(help="Import and sync the catalogue from Sanity.", no_args_is_help=True)


async def _import(path: Path) -> tuple[ImportBatch, ApplyResult]:
    engine = create_engine(get_settings())
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            with path.open(encoding="utf-8") as lines:
                return await import_ndjson(session, lines)
    finally:
        await engine.dispose()


@catalog_app.command("import")
def import_export(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An NDJSON export.")],
) -> None:
    """Apply a Sanity dataset export; malformed lines are skipped and listed by number."""
    batch, applied = asyncio.run(_import(file))
    typer.echo(
        f"read {len(batch.collections)} collections and {len(batch.products)} products "
        f"({batch.drafts_skipped} drafts skipped); changed {applied.collections} collections "
        f"and {applied.products} products"
    )
    for line, message in batch.warnings:
        typer.echo(f"warning: line {line}: {message}", err=True)
    for line, message in batch.errors:
        typer.echo(f"skipped line {line}: {message}", err=True)
    if batch.errors:
        raise typer.Exit(1)


async def _sync(on_document: Callable[[], None]) -> SyncResult:
    settings = get_settings()
    engine = create_engine(settings)
    try:
        sessions = create_sessionmaker(engine)
        async with sanity_client(settings) as client, sessions() as session, session.begin():
            return await sync_catalog(session, client, on_document=on_document)
    finally:
        await engine.dispose()


@catalog_app.command("sync")
def sync() -> None:
    """Fetch what changed in Sanity since the last sync; soft-delete what Sanity no longer has."""
    counter = TextColumn("fetched {task.completed:.0f} documents from Sanity")
    try:
        with Progress(SpinnerColumn(), counter, transient=True) as progress:
            task = progress.add_task("sync", total=None)
            result = asyncio.run(_sync(lambda: progress.advance(task)))
    except (ElysiumError, SanityError) as exc:
        typer.echo(f"error: {getattr(exc, 'detail', exc)}", err=True)
        raise typer.Exit(1) from exc
    for error in result.errors:
        typer.echo(f"skipped {error}", err=True)
    typer.echo(
        f"fetched {result.fetched} documents; changed {result.applied.collections} collections "
        f"and {result.applied.products} products; deleted {result.deleted}"
    )
