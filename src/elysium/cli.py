"""The `elysium` command: serve, worker, migrate, run, user management and the domains' commands."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from elysium.accounts.cli import user_app
from elysium.catalog.cli import catalog_app
from elysium.config import get_settings
from elysium.db import resolve_database_url
from elysium.inventory.cli import inventory_app

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


def _gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "elysium.app:create_app()",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--workers",
        str(workers),
        "--bind",
        f"{host}:{port}",
        "--graceful-timeout",
        "20",
        "--timeout",
        "60",
        "--keep-alive",
        "5",
    ]


def _prepare_metrics_dir(data_dir: Path) -> None:
    """Prometheus multi-process mode: every gunicorn worker writes here, /metrics sums them."""
    folder = data_dir.resolve() / f"prometheus-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Defaults to HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Defaults to PORT.")] = None,
    workers: Annotated[int | None, typer.Option(help="Defaults to WEB_CONCURRENCY.")] = None,
) -> None:
    """Serve the API with uvicorn workers under gunicorn."""
    settings = get_settings()
    _database_url()
    _prepare_metrics_dir(settings.data_dir)
    argv = _gunicorn_argv(
        host or settings.host, port or settings.port, workers or settings.web_concurrency
    )
    os.execv(sys.executable, argv)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs run at once by this worker.")] = 4,
    queue: Annotated[
        list[str] | None, typer.Option(help="A queue to serve (repeatable); default: all.")
    ] = None,
) -> None:
    """Run a job worker (any number may run, on any machine)."""
    from elysium.jobs import run_worker
    from elysium.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(run_worker(concurrency, queue, _database_url()))


@app.command("stop-db")
def stop_db() -> None:
    """Stop the embedded PostgreSQL (it keeps running after `make run` so restarts are quick)."""
    from elysium.kit.embedded_pg import stop_embedded_postgres

    stopped = stop_embedded_postgres(get_settings().data_dir)
    typer.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL is not running")


@app.command()
def run() -> None:
    """Everything `make run` needs: database, migrations, demo data, web server and a worker."""
    settings = get_settings()
    url = _database_url()
    from elysium.migrate import upgrade_to_head

    upgrade_to_head(url)
    _load_demo_if_empty(url)
    typer.echo(f"ELYSIUM on http://{settings.host}:{settings.port} (docs at /docs)")
    worker_proc = subprocess.Popen([sys.executable, "-m", "elysium.cli", "worker"])
    _prepare_metrics_dir(settings.data_dir)
    server_proc = subprocess.Popen(
        _gunicorn_argv(settings.host, settings.port, settings.web_concurrency)
    )
    _supervise([server_proc, worker_proc])


def _load_demo_if_empty(url: str) -> None:
    """Load the bundled demo catalogue and stock when the catalogue is empty."""
    from elysium.demo import load_demo_if_empty

    asyncio.run(load_demo_if_empty(url))


def _supervise(processes: list[subprocess.Popen[bytes]]) -> None:
    def stop(*_: object) -> None:
        for proc in processes:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(proc.poll() is None for proc in processes):
            time.sleep(0.5)
    finally:
        stop()
        for proc in processes:
            proc.wait(timeout=30)


if __name__ == "__main__":
    app()
