"""Prometheus metrics; multi-process aware when PROMETHEUS_MULTIPROC_DIR is set (gunicorn).

Every metric the service exports is defined here, so one module names them all. Gauges say how
several gunicorn workers combine (`multiprocess_mode`): a per-process quantity is summed over
the live processes, a value read from the database or a provider keeps the most recent reading.
"""

from __future__ import annotations

import hmac
import os
import threading
from enum import IntEnum

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

REQUESTS = Counter(
    "elysium_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
LATENCY = Histogram(
    "elysium_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

# --- database -------------------------------------------------------------------------------
DB_POOL_IN_USE = Gauge(
    "elysium_db_pool_in_use",
    "Database connections checked out of this service's pools",
    multiprocess_mode="livesum",
)
DB_POOL_WAITING = Gauge(
    "elysium_db_pool_waiting",
    "Requests waiting for a pooled database connection",
    multiprocess_mode="livesum",
)
REPLICA_LAG = Gauge(
    "elysium_replica_lag_seconds",
    "Replay lag of the read replica, in seconds (set by the replica router)",
    multiprocess_mode="mostrecent",
)

# --- jobs -----------------------------------------------------------------------------------
JOB_QUEUE_DEPTH = Gauge(
    "elysium_job_queue_depth",
    "Jobs in the queue by queue and status (todo, doing, failed)",
    ["queue", "status"],
    multiprocess_mode="mostrecent",
)
JOBS_FAILED = Counter("elysium_jobs_failed_total", "Job runs that raised", ["task"])
WORKER_RESTARTS = Counter(
    "elysium_worker_restarts_total", "Times a worker started again after losing its database"
)

# --- business -------------------------------------------------------------------------------
CHECKOUTS = Counter("elysium_checkouts_total", "Orders placed at checkout", ["provider"])
PAYMENTS = Counter(
    "elysium_payments_total", "Payments settled by the provider", ["provider", "outcome"]
)
EMAILS = Counter("elysium_emails_total", "Email delivery attempts", ["backend", "outcome"])

# --- providers ------------------------------------------------------------------------------


class BreakerState(IntEnum):
    """The value of `elysium_breaker_state`."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


BREAKER_STATE = Gauge(
    "elysium_breaker_state",
    "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open",
    ["provider"],
    multiprocess_mode="livemax",
)
BREAKER_REJECTED = Counter(
    "elysium_breaker_rejected_total", "Calls refused at once by an open breaker", ["provider"]
)


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return DEFAULT_REGISTRY


def render_metrics() -> tuple[bytes, str]:
    """The exposition text for every process (aggregated in multi-process mode)."""
    return generate_latest(_registry()), CONTENT_TYPE_LATEST


def serve_metrics(host: str, port: int) -> threading.Thread:
    """Expose the metrics on their own address (a worker, or gunicorn's master process), so
    the public port need not serve them."""
    server, thread = start_http_server(port, addr=host, registry=_registry())
    del server
    return thread


def token_matches(given: str | None, expected: str) -> bool:
    """`Authorization: Bearer <token>` against the configured token, in constant time."""
    if not given or not given.startswith("Bearer "):
        return False
    return hmac.compare_digest(given.removeprefix("Bearer ").encode(), expected.encode())
