"""Per-request context shared with services and the audit log (request ID, client IP)."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)


def current_request_id() -> str | None:
    """The ID of the request being served, if any."""
    return request_id_var.get()


def current_client_ip() -> str | None:
    """The client IP of the request being served, if any."""
    return client_ip_var.get()
