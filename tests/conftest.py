"""Real PostgreSQL for every test: one database per xdist worker, tables emptied per test."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url

from elysium.app import create_app
from elysium.config import Settings, get_settings
from elysium.db import Base, async_url, libpq_url
from elysium.kit.breakers import reset_breakers
from elysium.migrate import upgrade_to_head
from factories import SANITY_WEBHOOK_SECRET, Account, make_account

_embedded: Any = None
_embedded_folder: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Without TEST_DATABASE_URL, start one throwaway embedded cluster for the whole run.

    Its folder is made by `tempfile.mkdtemp`, not under pytest's /tmp/pytest-of-<user>: another
    pytest run starting on the machine resets that folder to 0700, and as root the cluster runs
    as another user who must traverse it.
    """
    global _embedded, _embedded_folder
    if hasattr(config, "workerinput"):
        return
    os.environ["ELYSIUM_TEST_RUN"] = uuid.uuid4().hex[:8]
    if os.environ.get("TEST_DATABASE_URL"):
        return
    from elysium.kit.embedded_pg import start_embedded_postgres

    _embedded_folder = Path(tempfile.mkdtemp(prefix="elysium-test-pg-"))
    _embedded = start_embedded_postgres(_embedded_folder, throwaway=True)
    os.environ["TEST_DATABASE_URL"] = _embedded.get_uri("postgres")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _embedded is not None:
        _embedded.cleanup()  # stops the cluster and deletes its data
    if _embedded_folder is not None:
        shutil.rmtree(_embedded_folder, ignore_errors=True)


def _worker_database_url(worker_id: str) -> str:
    base = make_url(async_url(os.environ["TEST_DATABASE_URL"]))
    name = f"elysium_test_{os.environ.get('ELYSIUM_TEST_RUN', 'x')}_{worker_id}"
    admin = libpq_url(base.render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = libpq_url(
        make_url(async_url(os.environ["TEST_DATABASE_URL"])).render_as_string(hide_password=False)
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> Iterator[str]:
    """This worker's own freshly migrated database, dropped at the end of the run."""
    url = _worker_database_url(worker_id)
    upgrade_to_head(url)
    yield url
    _drop_database(url)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings for tests; CLI code under test reads the same values from the environment."""
    outbox = tmp_path_factory.mktemp("outbox")
    values = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "COOKIE_SECURE": "false",
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
        "EMAIL_OUTBOX_DIR": str(outbox),
        "SANITY_WEBHOOK_SECRET": SANITY_WEBHOOK_SECRET,
        "REDIS_URL": "",
        # Tests send many enquiries, reviews, registrations and coupon codes from one address;
        # the limits themselves are tested with apps built with the production defaults.
        "ENQUIRIES_PER_HOUR": "10000",
        "ACCOUNT_REQUESTS_PER_HOUR": "10000",
        "COUPON_ATTEMPTS_PER_HOUR": "10000",
        "COUPON_ATTEMPTS_PER_CART": "10000",
        "ACKNOWLEDGEMENTS_PER_ADDRESS_PER_DAY": "10000",
    }
    os.environ.update(values)
    get_settings.cache_clear()
    yield Settings(_env_file=None)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application, started once per worker."""
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


def _emptying_statement() -> str:
    """One statement that empties every table and restarts every sequence.

    As a superuser (the embedded cluster, the usual local server) it deletes the rows with
    triggers off for the transaction (`session_replication_role = replica`): the append-only
    triggers of the audit log and the stock ledger, and the foreign-key checks, which hold anyway
    once every table is empty. That takes milliseconds for a test's handful of rows; TRUNCATE,
    the fallback for other roles, makes new files for each of the ~35 tables and their indexes
    (0.6-1 s a test here).
    """
    names = [f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables)]
    names += ["procrastinate_jobs", "procrastinate_events", "procrastinate_periodic_defers"]
    deletes = "".join(f"DELETE FROM {name};" for name in names)
    return (
        "DO $$ BEGIN IF current_setting('is_superuser') = 'on' THEN"
        " PERFORM set_config('session_replication_role', 'replica', true);"
        f"{deletes}"
        " PERFORM setval(c.oid::regclass, 1, false) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'S' AND n.nspname = current_schema();"
        f" ELSE TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE;"
        " END IF; END $$"
    )


_EMPTY_TABLES = _emptying_statement()


@pytest.fixture(autouse=True)
def _closed_breakers() -> None:
    """Each test starts with every provider's circuit breaker closed (they are per process,
    so one test's provider outage would otherwise open them for the next)."""
    reset_breakers()


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> None:
    """Each test starts from empty tables and restarted sequences."""
    if "app" not in request.fixturenames:
        return
    application: FastAPI = request.getfixturevalue("app")
    async with application.state.engine.begin() as conn:
        await conn.exec_driver_sql(_EMPTY_TABLES)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """An HTTP client speaking to the app in-process, as the shop's own pages would: it sends
    the shop's `Origin`, which cookie-signed writes need (tests/ops/test_cross_site.py)."""
    transport = ASGITransport(app=app, client=("203.0.113.10", 50000))
    origin = {"Origin": app.state.settings.public_base_url}
    async with AsyncClient(
        transport=transport, base_url="http://testserver", headers=origin
    ) as http:
        yield http


@pytest.fixture
async def customer(app: FastAPI) -> Account:
    """A signed-in customer (bearer token; use `make_account(app)` for more than one)."""
    return await make_account(app, "customer")


@pytest.fixture
async def staff(app: FastAPI) -> Account:
    """A signed-in member of staff (bearer token)."""
    return await make_account(app, "staff")


@pytest.fixture
async def admin(app: FastAPI) -> Account:
    """A signed-in admin (bearer token)."""
    return await make_account(app, "admin")
