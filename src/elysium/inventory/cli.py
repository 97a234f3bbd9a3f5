"""`elysium inventory import FILE.csv`: stock levels from the shell."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Annotated

import typer

from elysium.config import get_settings
from elysium.db import create_engine, create_sessionmaker
from elysium.inventory.importer import ImportReport, import_stock_csv

inventory_app = typer.Typer(help="Manage stock levels.", no_args_is_help=True)


async def _import(path: Path) -> ImportReport:
    engine = create_engine(get_settings())
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            with path.open(encoding="utf-8-sig", newline="") as rows:
                return await import_stock_csv(session, csv.DictReader(rows))
    finally:
        await engine.dispose()


@inventory_app.command("import")
def import_csv(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="CSV with product_slug,variant_key,stock_level,low_stock_threshold.",
        ),
    ],
) -> None:
    """Set stock levels from a CSV; bad rows are skipped and listed by line number."""
    report = asyncio.run(_import(file))
    typer.echo(
        f"read {report.rows} rows: {report.changed} changed, {report.unchanged} unchanged, "
        f"{len(report.errors)} refused"
    )
    for line, message in report.errors:
        typer.echo(f"skipped line {line}: {message}", err=True)
    if report.errors:
        raise typer.Exit(1)
