"""structlog for every log line: JSON lines in production, a readable console in development.

The app logs through structlog's own (fast) loggers; everything that logs through the standard
library (gunicorn, uvicorn, procrastinate, SQLAlchemy, alembic) is rendered by structlog's
`ProcessorFormatter` with the same processors and renderer, so one process writes one format.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import Any

import structlog

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def _renderer(json: bool) -> structlog.types.Processor:
    return structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()


def stdlib_formatter(json: bool) -> logging.Formatter:
    """A stdlib formatter that renders records as structlog does (for foreign loggers)."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(json),
        ],
    )


def logging_config(level: str = "INFO", json: bool = True) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary (gunicorn's `logconfig_dict` uses it too):
    one stdout handler rendering through structlog, for the root and gunicorn's loggers."""
    handler = {"class": "logging.StreamHandler", "formatter": "structlog", "stream": sys.stdout}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structlog": {"()": stdlib_formatter, "json": json}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
            for name in ("gunicorn.error", "gunicorn.access", "uvicorn", "uvicorn.error")
        },
    }


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Route structlog and the standard library through one renderer on stdout."""
    structlog.configure(
        processors=[*_SHARED, structlog.processors.format_exc_info, _renderer(json)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    logging.config.dictConfig(logging_config(level, json))
