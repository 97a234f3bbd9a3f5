"""Every log line through structlog (JSON in production, console in development), and which
errors mean "the database is unreachable" (answered 503 with Retry-After)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from elysium.config import Settings
from elysium.errors import database_unreachable
from elysium.kit.logging import configure_logging


def test_stdlib_loggers_are_rendered_by_structlog(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        configure_logging("INFO", json=True)
        logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 42)
        logging.getLogger("procrastinate.worker").warning("job failed")
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert lines[0]["event"] == "Booting worker with pid: 42"
        assert lines[0]["logger"] == "gunicorn.error"
        assert {line["level"] for line in lines} == {"info", "warning"}
        assert all("timestamp" in line for line in lines)

        configure_logging("INFO", json=False)
        logging.getLogger("uvicorn.error").info("Started server process")
        out = capsys.readouterr().out
        assert "Started server process" in out
        assert not out.lstrip().startswith("{")
    finally:
        with capsys.disabled():  # bound to the real stdout again, not this test's capture
            configure_logging("WARNING", json=True)


def test_json_logs_except_in_development() -> None:
    assert Settings(_env_file=None, environment="development").log_json is False
    assert Settings(_env_file=None, environment="test").log_json is True
    assert Settings(_env_file=None, environment="development", log_json=True).log_json is True


class _Pg(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _wrapped(cause: Exception) -> RuntimeError:
    error = RuntimeError("connect failed")
    error.__cause__ = cause
    return error


def test_which_errors_mean_the_database_is_unreachable() -> None:
    terminated = DBAPIError("SELECT 1", {}, _Pg("57P01"))
    assert database_unreachable(terminated)
    lost = DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert database_unreachable(lost)
    assert database_unreachable(_wrapped(ConnectionRefusedError(111, "refused")))
    duplicate = IntegrityError("INSERT", {}, _Pg("23505"))
    assert not database_unreachable(duplicate)
    assert not database_unreachable(ValueError("bad"))
