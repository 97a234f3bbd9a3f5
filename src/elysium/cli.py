"""The `elysium` command: serve, worker, migrate, run, user management and the domains' commands."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from elysium.accounts.cli import user_app
from elysium.catalog.cli import catalog_app
from elysium.config import Settings, get_settings
from elysium.db import resolve_database_url
from elysium.inventory.cli import inventory_app
from elysium.kit.supervisor import CONFIG_ERROR, Child, supervise

app = typer.Typer(help="ELYSIUM Commerce", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(catalog_app, name="catalog")
app.add_typer(inventory_app, name="inventory")


def _database_url() -> str:
    """The URL every command uses; exported so child processes share it."""
    url = resolve_database_url(get_settings())
    os.environ["DATABASE_URL"] = url
    return url


@app.command()
def demo() -> None:
    """Load the demo catalogue and its starting stock (safe to run again)."""
    from elysium.demo import load_demo_into

    loaded = asyncio.run(load_demo_into(resolve_database_url(get_settings()), only_if_empty=False))
    assert loaded is not None
    typer.echo(
        f"demo catalogue: changed {loaded.applied.collections} collections and "
        f"{loaded.applied.products} products; {loaded.stock_rows} stock rows"
    )


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from elysium.migrate import upgrade_to_head

    upgrade_to_head(_database_url())
    typer.echo("database is up to date")


def _checked_settings() -> Settings:
    """The settings, or exit with CONFIG_ERROR saying what is wrong: the one failure a
    restart cannot mend (everything else, a database away among them, is waited out)."""
    try:
        return get_settings()
    except ValidationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(CONFIG_ERROR) from exc


def _gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    """gunicorn with every setting from `elysium.gunicorn_conf`; the arguments override
    the address and worker count for this run."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:elysium.gunicorn_conf",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
    ]


def _prepare_metrics_dir(data_dir: Path) -> dict[str, str]:
    """Prometheus multi-process mode: every gunicorn worker writes here, /metrics sums them.
    Returns the environment for the server (the job worker keeps its own registry)."""
    folder = data_dir.resolve() / f"prometheus-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Defaults to HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Defaults to PORT.")] = None,
    workers: Annotated[int | None, typer.Option(help="Defaults to WEB_CONCURRENCY.")] = None,
) -> None:
    """Serve the API with uvicorn workers under gunicorn (SIGTERM: in-flight requests finish)."""
    settings = _checked_settings()
    _database_url()
    env = _prepare_metrics_dir(settings.data_dir)
    argv = _gunicorn_argv(
        host or settings.host, port or settings.port, workers or settings.web_concurrency
    )
    os.execve(sys.executable, argv, env)


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once; defaults to WORKER_CONCURRENCY.")
    ] = None,
    queue: Annotated[
        list[str] | None, typer.Option(help="A queue to serve (repeatable); default: all.")
    ] = None,
) -> None:
    """Run a job worker (any number may run, on any machine). It outlives database outages;
    SIGTERM lets running jobs finish."""
    settings = _checked_settings()
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from elysium.jobs import run_worker
    from elysium.kit.logging import configure_logging
    from elysium.kit.metrics import serve_metrics

    configure_logging(settings.log_level, bool(settings.log_json))
    if settings.worker_metrics_port is not None:
        serve_metrics(settings.metrics_host, settings.worker_metrics_port)
    asyncio.run(run_worker(concurrency or settings.worker_concurrency, queue, _database_url()))


@app.command("backup")
def backup_command(
    directory: Annotated[Path | None, typer.Option("--dir", help="Defaults to BACKUP_DIR.")] = None,
) -> None:
    """Write a pg_dump archive of the database and its manifest (time, revision, row counts,
    checksum)."""
    from elysium.backup import BackupError, backup

    settings = _checked_settings()
    try:
        manifest = backup(_database_url(), directory or settings.backup_dir, settings.pg_bin_dir)
    except BackupError as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    rows = sum(manifest.row_counts.values())
    folder = directory or settings.backup_dir
    typer.echo(
        f"backup {folder / manifest.archive}: revision {manifest.alembic_revision}, "
        f"{rows} rows in {len(manifest.row_counts)} tables, sha256 {manifest.sha256[:16]}..."
    )


@app.command("restore")
def restore_command(
    archive: Annotated[Path, typer.Argument(help="An archive written by `elysium backup`.")],
) -> None:
    """Restore an archive into the (empty) database DATABASE_URL names; refuses a database
    that holds anything, and checks every table's row count against the manifest."""
    from elysium.backup import BackupError, restore

    settings = _checked_settings()
    try:
        manifest = restore(_database_url(), archive, settings.pg_bin_dir)
    except BackupError as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"restored {archive.name} (revision {manifest.alembic_revision}, taken "
        f"{manifest.created_at}); row counts match the manifest"
    )


@app.command("stop-db")
def stop_db() -> None:
    """Stop the embedded PostgreSQL (it keeps running after `make run` so restarts are quick)."""
    from elysium.kit.embedded_pg import stop_embedded_postgres

    stopped = stop_embedded_postgres(get_settings().data_dir)
    typer.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL is not running")


@app.command()
def run() -> None:
    """Everything `make run` needs: database, migrations, demo data (not in production), web
    server and a worker, each started again should it die."""
    settings = _checked_settings()
    url = _database_url()
    from elysium.migrate import upgrade_to_head

    upgrade_to_head(url)
    if settings.environment != "production":
        _load_demo_if_empty(url)
    worker_env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    children = [
        Child(
            "server",
            _gunicorn_argv(settings.host, settings.port, settings.web_concurrency),
            _prepare_metrics_dir(settings.data_dir),
        ),
        Child("worker", [sys.executable, "-m", "elysium.cli", "worker"], worker_env),
    ]
    base = f"http://{settings.host}:{settings.port}"
    code = supervise(
        children,
        ready_url=f"{base}/health/live",
        ready_message=(f"ELYSIUM ready on {base} (docs at /docs)"),
    )
    raise typer.Exit(code)


def _load_demo_if_empty(url: str) -> None:
    """Load the bundled demo catalogue and stock when the catalogue is empty."""
    from elysium.demo import load_demo_if_empty

    asyncio.run(load_demo_if_empty(url))


if __name__ == "__main__":
    app()
