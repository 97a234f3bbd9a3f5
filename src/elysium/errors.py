"""The error hierarchy and the one handler that renders every error as problem+json."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)


class ElysiumError(Exception):
    """Base of every error a service may raise; carries its HTTP status and problem type."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"
    keep_changes = False  # True: the request's transaction commits what was done before the error

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class ValidationFailedError(ElysiumError):
    status = 422
    type_slug = "validation-error"
    title = "Invalid input"


class UnauthorizedError(ElysiumError):
    status = 401
    type_slug = "unauthorized"
    title = "Not signed in"

    def __init__(self, detail: str = "Sign in to continue.", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class ForbiddenError(ElysiumError):
    status = 403
    type_slug = "forbidden"
    title = "Not allowed"


class NotFoundError(ElysiumError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class ConflictError(ElysiumError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class OutOfStockError(ConflictError):
    type_slug = "out-of-stock"
    title = "Not enough stock"


class IllegalTransitionError(ConflictError):
    type_slug = "illegal-transition"
    title = "Illegal status change"


class PayloadTooLargeError(ElysiumError):
    status = 413
    type_slug = "payload-too-large"
    title = "Request body too large"


class RateLimitedError(ElysiumError):
    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailableError(ElysiumError):
    status = 503
    type_slug = "unavailable"
    title = "Service unavailable"


class BadGatewayError(ElysiumError):
    status = 502
    type_slug = "bad-gateway"
    title = "Upstream service failed"


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    type_slug: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    """An RFC 9457 problem details response."""
    body: dict[str, Any] = {
        "type": f"https://elysium.example/problems/{type_slug or _slug_for(status)}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    body.update(extra or {})
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def _slug_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "-")
    except ValueError:
        return "error"


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": _field_path(err.get("loc", ())), "message": err.get("msg", "invalid")}
        for err in exc.errors()
    ]


ErrorPage = Callable[[Request, "ElysiumError"], "Response | None"]
"""Renders an error as an HTML page for the URLs it serves (the back office), else None."""


def _elysium_handler(page: ErrorPage | None) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ElysiumError)
        html = page(request, exc) if page is not None else None
        return html if html is not None else await _handle_elysium(request, exc)

    return handle


async def _handle_elysium(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ElysiumError)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        type_slug=exc.type_slug,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
        instance=request.url.path,
    )


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
    status = 400 if malformed else 422
    detail = "The request body is not valid JSON." if malformed else "Some fields are invalid."
    return problem_response(
        status,
        "Malformed request" if malformed else "Invalid input",
        detail,
        type_slug="malformed-request" if malformed else "validation-error",
        errors=errors,
        instance=request.url.path,
    )


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = _phrase(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(
        exc.status_code, title, detail, headers=exc.headers, instance=request.url.path
    )


# SQLSTATEs of a lost or refused connection: class 08 (connection exception), 57P01-57P03
# (terminated by an administrator, crash, the server is starting or stopping).
_UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def database_unreachable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (a failover, a PgBouncer
    restart, `pg_terminate_backend`): the request may succeed if tried again shortly."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, ConnectionError):  # refused, reset, broken pipe
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNREACHABLE_SQLSTATES):
            return True
        if type(current).__name__ == "ConnectionDoesNotExistError":  # asyncpg, no SQLSTATE
            return True
        orig = getattr(current, "orig", None)  # a DBAPIError's driver error
        if isinstance(orig, BaseException) and id(orig) not in seen:
            current = orig
        else:
            current = current.__cause__ or current.__context__
    return False


def _database_unavailable(request: Request) -> JSONResponse:
    settings = getattr(request.app.state, "settings", None)
    retry_after = getattr(settings, "db_unavailable_retry_after", 2)
    return problem_response(
        503,
        "Service unavailable",
        "The database is briefly unreachable. Try again shortly.",
        type_slug="unavailable",
        headers={"Retry-After": str(retry_after)},
        instance=request.url.path,
    )


async def _handle_database(request: Request, exc: Exception) -> JSONResponse:
    """Data the database cannot store (NUL bytes, out-of-range numbers) is the client's fault;
    a lost connection is a 503 the client may retry."""
    assert isinstance(exc, DBAPIError)
    if database_unreachable(exc):
        log.warning("database_unreachable", path=request.url.path, error=str(exc.orig))
        return _database_unavailable(request)
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    if sqlstate.startswith("22"):
        return problem_response(
            422,
            "Invalid input",
            "Some of the data sent cannot be stored (for example a NUL character "
            "or a number out of range).",
            type_slug="validation-error",
            instance=request.url.path,
        )
    if sqlstate in BUSY_SQLSTATES:
        return _busy(request, f"database busy ({sqlstate})")
    return await _handle_unexpected(request, exc)


BUSY_SQLSTATES = frozenset({"53300", "57014", "55P03"})
"""too_many_connections, query_canceled (statement_timeout), lock_not_available (lock_timeout):
the database is overloaded, not the request wrong; the client may try again shortly."""


def _busy(request: Request, reason: str) -> JSONResponse:
    settings = getattr(request.app.state, "settings", None)
    retry_after = getattr(settings, "db_busy_retry_after_seconds", 2)
    log.warning("database_busy", path=request.url.path, reason=reason)
    return problem_response(
        503,
        "Service unavailable",
        "The shop is very busy right now; please try again in a moment.",
        type_slug="unavailable",
        headers={"Retry-After": str(retry_after)},
        instance=request.url.path,
    )


async def _handle_pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    """Every pooled connection stayed busy for DB_POOL_TIMEOUT seconds: a spike beyond the
    pool is refused cleanly (503 + Retry-After), never a 500."""
    return _busy(request, "connection pool exhausted")


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if database_unreachable(exc):
        log.warning("database_unreachable", path=request.url.path, error=repr(exc))
        return _database_unavailable(request)
    log.exception("unhandled_error", path=request.url.path)
    return problem_response(
        500, "Internal error", "Something went wrong on our side; it has been logged."
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_error_handlers(app: FastAPI, page: ErrorPage | None = None) -> None:
    """Render every error, ours and the framework's, as problem+json.

    `page` may render our errors as HTML for the pages it serves (the back office), so that
    `/admin` and the API raise the same errors from the same dependencies.
    """
    app.add_exception_handler(ElysiumError, _elysium_handler(page))
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(DBAPIError, _handle_database)
    app.add_exception_handler(PoolTimeoutError, _handle_pool_timeout)
    app.add_exception_handler(Exception, _handle_unexpected)
