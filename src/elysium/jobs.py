"""The procrastinate job queue app and the worker entry point."""

from __future__ import annotations

from procrastinate import App, PsycopgConnector

from elysium.config import get_settings
from elysium.db import libpq_url, resolve_database_url

TASK_MODULES: list[str] = []


def create_job_app(database_url: str | None = None) -> App:
    """A procrastinate App on the same database as the web service."""
    url = libpq_url(database_url or resolve_database_url(get_settings()))
    connector = PsycopgConnector(conninfo=url, kwargs={"application_name": "elysium-jobs"})
    return App(connector=connector, import_paths=TASK_MODULES)


job_app = App(connector=PsycopgConnector(), import_paths=TASK_MODULES)
