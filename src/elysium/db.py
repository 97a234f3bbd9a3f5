"""Engine, sessions and the declarative base."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any, ClassVar, cast

import structlog
from fastapi import Depends, Request
from sqlalchemy import (
    Column,
    ColumnDefault,
    CursorResult,
    DateTime,
    MetaData,
    Result,
    Table,
    event,
    func,
    insert,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from elysium.config import Settings
from elysium.errors import ElysiumError
from elysium.kit.metrics import DB_POOL_IN_USE, DB_POOL_WAITING

log = structlog.get_logger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every ORM table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class UUIDPrimaryKey:
    """A random UUID primary key."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    """`created_at` and `updated_at`, kept by the database."""

    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class SoftDelete:
    """Records that must be kept are marked deleted, never removed."""

    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through a session changed."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


@cache
def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class: Core statements on it skip the ORM's per-call work."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


async def insert_new(session: AsyncSession, *rows: Base) -> None:
    """Write new mapped objects with one Core INSERT per table, outside the unit of work.

    For rows written once and only read afterwards on a hot path (orders, order lines,
    history, ledger entries, notifications): a unit-of-work flush costs several times the CPU.
    Python-side column defaults are set on the objects first and database-side ones read back,
    so the objects hold what was stored. They are not added to the session, so a change to one
    would be lost: a use case never hands one out to be changed, it returns a frozen read model
    instead (see `orders.place.PlacedOrder`).
    Tables are written in the order their first row is given (parents first).
    """
    groups: dict[tuple[Table, frozenset[str]], list[tuple[Base, dict[str, Any]]]] = {}
    for row in rows:
        table, values = _insert_values(row)
        groups.setdefault((table, frozenset(values)), []).append((row, values))
    for (table, given), members in groups.items():
        generated = [c for c in _database_defaulted(table) if c.key not in given]
        statement = insert(table)
        if generated:
            statement = statement.returning(*generated, sort_by_parameter_order=True)
        result = await session.execute(statement, [values for _, values in members])
        if generated:
            for (row, _), stored in zip(members, result.all(), strict=True):
                for column, value in zip(generated, stored, strict=True):
                    setattr(row, _attribute_of(type(row), column), value)


@dataclass(frozen=True, slots=True)
class _ColumnPlan:
    attribute: str
    column: str
    default: ColumnDefault | None


@cache
def _insert_plan(model: type[Base]) -> tuple[_ColumnPlan, ...]:
    plans = []
    for attr in inspect(model).column_attrs:
        column = attr.columns[0]
        default = column.default
        plans.append(_ColumnPlan(attr.key, column.key, default if _python_side(default) else None))
    return tuple(plans)


def _python_side(default: Any) -> bool:
    """A default computed in Python (a constant or a callable), not by SQL."""
    return isinstance(default, ColumnDefault) and (default.is_scalar or default.is_callable)


@cache
def _database_defaulted(table: Table) -> tuple[Column[Any], ...]:
    """Columns whose value the database supplies when left out: read back after the INSERT."""
    return tuple(
        c
        for c in table.columns
        if c.server_default is not None or (c.default is not None and not _python_side(c.default))
    )


def _insert_values(row: Base) -> tuple[Table, dict[str, Any]]:
    """The row's column values, after setting Python-side defaults on unset attributes."""
    values: dict[str, Any] = {}
    state = row.__dict__
    for plan in _insert_plan(type(row)):
        if plan.attribute not in state and plan.default is not None:
            value = plan.default.arg(None) if plan.default.is_callable else plan.default.arg
            setattr(row, plan.attribute, value)
        if plan.attribute in state:
            values[plan.column] = state[plan.attribute]
    return table_of(type(row)), values


@cache
def _attribute_of(model: type[Base], column: Column[Any]) -> str:
    return inspect(model).get_property_by_column(column).key


def async_url(url: str) -> str:
    """Accept `postgresql://`, `postgres://` and `postgresql+asyncpg://` and return the last."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    """The same URL in the plain `postgresql://` form that libpq and psycopg accept."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def resolve_database_url(settings: Settings) -> str:
    """`DATABASE_URL` when set, else the embedded cluster under `DATA_DIR` (started if needed)."""
    if settings.database_url:
        return async_url(settings.database_url)
    from elysium.kit.embedded_pg import ensure_database, start_embedded_postgres

    server = start_embedded_postgres(settings.data_dir)
    return async_url(ensure_database(server))


def session_timeouts(settings: Settings) -> dict[str, str]:
    """The server settings every connection of the service runs with (milliseconds; 0: off)."""
    return {
        "statement_timeout": str(settings.db_statement_timeout_ms),
        "lock_timeout": str(settings.db_lock_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings.db_idle_in_transaction_timeout_ms),
    }


def pgbouncer_connect_query(settings: Settings) -> str:
    """The `connect_query` for PgBouncer's database entry: the same timeouts, set on each
    server connection PgBouncer opens (a pooler passes no per-client session settings)."""
    return "; ".join(f"SET {name} = {value}" for name, value in session_timeouts(settings).items())


def _prepared_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def connect_args(settings: Settings, application_name: str = "elysium") -> dict[str, Any]:
    """asyncpg connection arguments: the timeouts, or PgBouncer-safe statements.

    Behind PgBouncer in transaction pooling mode two transactions of one client connection may
    run on different server connections, so asyncpg's statement cache is off and every prepared
    statement gets a unique name (as SQLAlchemy's asyncpg documentation prescribes); the
    timeouts then come from PgBouncer's `connect_query` (see `pgbouncer_connect_query`).
    """
    if settings.db_pgbouncer:
        return {
            "statement_cache_size": 0,
            "prepared_statement_name_func": _prepared_statement_name,
            "server_settings": {"application_name": application_name},
        }
    server_settings = {"application_name": application_name} | session_timeouts(settings)
    return {"server_settings": server_settings}


def create_engine(
    settings: Settings,
    url: str | None = None,
    application_name: str = "elysium",
    connect_timeout: float | None = None,
) -> AsyncEngine:
    """An asyncpg engine with the pool and the timeouts the settings ask for."""
    url = async_url(url or resolve_database_url(settings))
    if settings.db_pgbouncer:  # SQLAlchemy's own prepared-statement cache: off as well
        url = _with_query(url, prepared_statement_cache_size=0)
    arguments = connect_args(settings, application_name)
    if connect_timeout is not None:
        arguments["timeout"] = connect_timeout
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        connect_args=arguments,
    )
    if settings.db_pool_pre_ping:
        _ping_idle_connections(engine, settings.db_ping_after_idle_seconds)
    _observe_pool(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine, after_idle: float) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections unused `after_idle` seconds or more.

    A pooled connection the server has closed (failover, PgBouncer restart,
    pg_terminate_backend) is found by the ping at checkout and replaced. A ping is three round
    trips (asyncpg's begin, a statement, rollback): at every checkout it cost a product page's
    read most of its database time (measured). A connection used within the last `after_idle`
    seconds is handed out unpinged: if the server closed it meanwhile, its request answers 503
    with Retry-After and SQLAlchemy replaces the whole pool on that disconnect.
    """
    pool = engine.sync_engine.pool

    def checked_in(_: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < after_idle:
            return  # new, or used a moment ago
        try:
            dbapi_connection.ping()
        except Exception as exc:  # the pool then connects afresh (up to three attempts)
            raise DisconnectionError(str(exc)) from exc

    event.listen(pool, "checkin", checked_in)
    event.listen(pool, "checkout", checkout)


def pool_waiting(engine: AsyncEngine) -> int:
    """Tasks waiting for a connection of the engine's pool now (its asyncio queue's getters)."""
    queue = getattr(getattr(engine.sync_engine.pool, "_pool", None), "_queue", None)
    return len(getattr(queue, "_getters", ()))


def refresh_pool_metrics(engine: AsyncEngine) -> None:
    """Read the waiting count now (a scrape), besides at every checkout and checkin."""
    DB_POOL_WAITING.set(pool_waiting(engine))


def _observe_pool(engine: AsyncEngine) -> None:
    """Keep `elysium_db_pool_in_use` (counted at checkout and checkin) and
    `elysium_db_pool_waiting` (read at each of them and at a scrape) up to date."""
    pool = engine.sync_engine.pool

    def checked_out(*_: Any) -> None:
        DB_POOL_IN_USE.inc()
        DB_POOL_WAITING.set(pool_waiting(engine))

    def checked_in(*_: Any) -> None:
        DB_POOL_IN_USE.dec()
        DB_POOL_WAITING.set(pool_waiting(engine))

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)


def _with_query(url: str, **params: Any) -> str:
    parsed = make_url(url)
    return parsed.update_query_dict({k: str(v) for k, v in params.items()}).render_as_string(
        hide_password=False
    )


def direct_database_url(settings: Settings, url: str | None = None) -> str:
    """The URL for LISTEN/NOTIFY and the job queue: `DATABASE_DIRECT_URL` when set (the primary
    without PgBouncer in between), else the service's own."""
    if settings.database_direct_url:
        return async_url(settings.database_direct_url)
    return url or resolve_database_url(settings)


PROCRASTINATE_POOL = 4
"""Connections of a worker's procrastinate pool (psycopg_pool's default size, one of them
holding the LISTEN for new jobs)."""


@dataclass(frozen=True, slots=True)
class ConnectionBudget:
    """Connections one deployment opens to PostgreSQL at most (docs/connection-budget.md)."""

    pool: int  # DB_POOL_SIZE + DB_MAX_OVERFLOW of one process's engine
    listen_per_web_process: int = 1  # the catalogue cache's LISTEN connection

    def per_web_process(self) -> int:
        return self.pool + self.listen_per_web_process

    def per_worker_process(self, concurrency: int) -> int:
        """procrastinate's pool plus one engine connection per job running at once."""
        return PROCRASTINATE_POOL + min(concurrency, self.pool)

    def total(self, web_processes: int, worker_processes: int, worker_concurrency: int) -> int:
        return web_processes * self.per_web_process() + worker_processes * (
            self.per_worker_process(worker_concurrency)
        )


def connection_budget(settings: Settings) -> ConnectionBudget:
    """The budget of this configuration (see `ConnectionBudget`)."""
    return ConnectionBudget(pool=settings.db_pool_size + settings.db_max_overflow)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def autocommit_engine(engine: AsyncEngine) -> AsyncEngine:
    """`engine` (the same pool) with every statement committing by itself. For work that is ONE
    statement (a token lookup, a list read) this is the same as a transaction without its BEGIN
    and COMMIT: one round trip instead of three. Never for work of two statements or more."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def autocommit_session(engine: AsyncEngine) -> AsyncSession:
    """An ORM session on an `autocommit_engine`, for one statement's entities."""
    return AsyncSession(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and transaction per request, committed before the response is sent."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except ElysiumError as exc:
            await (session.commit() if exc.keep_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_autocommit_engine(request: Request) -> AsyncEngine:
    """The app's `autocommit_engine`, for a route whose database work is a single statement,
    or none unless its cache misses (the product-page hot paths)."""
    engine: AsyncEngine = request.app.state.autocommit_engine
    return engine


AutocommitEngineDep = Annotated[AsyncEngine, Depends(get_autocommit_engine)]


_PRIMARY_LSN = text("SELECT pg_current_wal_insert_lsn()::text")
_REPLICA_STATE = text(
    "SELECT pg_is_in_recovery(),"
    " pg_wal_lsn_diff(CAST(CAST(:primary AS text) AS pg_lsn),"
    " coalesce(pg_last_wal_replay_lsn(), '0/0')),"
    " extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
)


class ReadReplica:
    """Chooses where reads that may be slightly stale go: a streaming replica while it answers
    and is no more than `max_lag` seconds behind, else the primary.

    A loop checks every `interval` seconds: the replica has replayed everything the primary
    had written (lag 0), or its lag is the age of the last transaction it replayed. A replica
    that does not answer, or is no replica at all, is skipped until a later check finds it good.
    Only anonymous catalogue reads, trending and staff reports use it; a customer's own data is
    always read from the primary (read-your-writes).
    """

    def __init__(
        self, primary: AsyncEngine, replica: AsyncEngine, max_lag: float, interval: float
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag = max_lag
        self.interval = interval
        self.healthy = False
        self.lag: float | None = None
        self.last_error: str | None = None
        self._replica_sessions = create_sessionmaker(replica)
        self._primary_sessions = create_sessionmaker(primary)
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> bool:
        """Measure the lag now; True when reads may go to the replica."""
        try:
            async with asyncio.timeout(max(self.interval, 2.0)):
                async with self.primary.connect() as conn:
                    primary_lsn = (await conn.execute(_PRIMARY_LSN)).scalar_one()
                async with self.replica.connect() as conn:
                    row = (await conn.execute(_REPLICA_STATE, {"primary": primary_lsn})).one()
        except Exception as exc:  # down, unreachable, or not PostgreSQL: use the primary
            self.last_error = str(exc)[:500]
            if self.healthy:
                log.warning("replica.unavailable", error=self.last_error)
            self.healthy, self.lag = False, None
            return False
        in_recovery, behind_bytes, replay_age = row
        self.lag = 0.0 if behind_bytes <= 0 else float(replay_age or float("inf"))
        healthy = bool(in_recovery) and self.lag <= self.max_lag
        if healthy != self.healthy:
            log.warning("replica.state", healthy=healthy, lag=self.lag)
        self.healthy = healthy
        return healthy

    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """The replica's sessions while it is good, else the primary's."""
        return self._replica_sessions if self.healthy else self._primary_sessions

    async def _run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        await self.check()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.replica.dispose()


def create_read_replica(settings: Settings, primary: AsyncEngine) -> ReadReplica | None:
    """The replica router when `DATABASE_REPLICA_URL` is set, else None."""
    url = settings.database_replica_url
    if not url:
        return None
    replica = create_engine(
        settings, async_url(url), application_name="elysium-replica", connect_timeout=2.0
    )
    return ReadReplica(
        primary, replica, settings.replica_max_lag_seconds, settings.replica_check_seconds
    )


def read_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads that tolerate the replica's bounded lag (see `ReadReplica`)."""
    replica: ReadReplica | None = getattr(request.app.state, "read_replica", None)
    if replica is None:
        maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
        return maker
    return replica.sessionmaker()


async def get_read_session(request: Request, primary: SessionDep) -> AsyncIterator[AsyncSession]:
    """A session on the replica when there is a good one (rolled back: it only reads), else
    the request's own session on the primary (no second connection)."""
    replica: ReadReplica | None = getattr(request.app.state, "read_replica", None)
    if replica is None or not replica.healthy:
        yield primary
        return
    async with replica.sessionmaker()() as session:
        try:
            yield session
        finally:
            await session.rollback()


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
