"""Every operation the app serves, with the access level its dependencies enforce."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from elysium.accounts.permissions import Access

_LEVELS = (
    ("require_admin", Access.ADMIN),
    ("require_staff", Access.STAFF),
    ("require_staff_enrolling", Access.STAFF),
    ("require_auth", Access.SIGNED_IN),
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    enforced: Access | None  # from the dependencies; None: no sign-in required
    in_schema: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _calls(dependant: Any) -> set[str]:
    found: set[str] = set()
    for dep in dependant.dependencies:
        found.add(getattr(dep.call, "__name__", ""))
        found |= _calls(dep)
    return found


def _contexts(app: FastAPI) -> Iterator[Any]:
    for route in app.router.routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()


def operations(app: FastAPI) -> list[Operation]:
    found = []
    for route in _contexts(app):
        calls = _calls(route.dependant)
        enforced = next((level for name, level in _LEVELS if name in calls), None)
        for method in sorted(route.methods - {"HEAD"}):
            found.append(Operation(method, route.path, enforced, route.include_in_schema))
    return found
