"""`/docs` (Swagger UI) and `/redoc` served entirely by the app: offline, under a strict CSP.

The Swagger UI and ReDoc bundles come from the maintained `fastapi-offline` package (its static
files, served here at /docs/static); the page start-up code is a served file, not an inline
script, so `script-src 'self'` holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from elysium.accounts.permissions import Access, access_of

BUNDLES = Path(fastapi_offline.__file__).parent / "static"
OWN = Path(__file__).parent / "apidocs_static"
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
# ReDoc injects its own <style> elements (styled-components) and runs a blob: worker.
REDOC_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

router = APIRouter(include_in_schema=False)

_SWAGGER = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ELYSIUM Commerce API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
<link rel="icon" href="/docs/static/favicon.png">
</head><body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/own/swagger-init.js"></script>
</body></html>"""

_REDOC = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ELYSIUM Commerce API</title>
<link rel="icon" href="/docs/static/favicon.png">
</head><body><div id="redoc"></div>
<script src="/docs/static/redoc.standalone.js"></script>
<script src="/docs/own/redoc-init.js"></script>
</body></html>"""


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(_SWAGGER, headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return HTMLResponse(_REDOC, headers={"Content-Security-Policy": REDOC_CSP})


@router.get("/docs/own/swagger-init.js")
async def swagger_init() -> FileResponse:
    return FileResponse(OWN / "swagger-init.js", media_type="text/javascript")


@router.get("/docs/own/redoc-init.js")
async def redoc_init() -> FileResponse:
    return FileResponse(OWN / "redoc-init.js", media_type="text/javascript")


def install_api_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from the app itself (create the app with docs_url=None)."""
    app.mount("/docs/static", StaticFiles(directory=BUNDLES), name="docs-static")
    app.include_router(router)
    install_openapi(app)


# --- the OpenAPI document: security schemes and the real error answers -------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem details object: every error answer has this shape.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Per-field problems of invalid input.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_ERRORS = {
    "400": "The body is not valid JSON.",
    "401": "Not signed in (no token, or an expired or revoked one).",
    "403": "Signed in, but not allowed (role, two-factor, or a cross-site cookie write).",
    "404": "No such resource, or not yours.",
    "409": "Conflicts with the resource's current state.",
    "413": "The body is too large.",
    "422": "Invalid input; `errors` names each field.",
    "429": "Too many requests; `Retry-After` says when to try again.",
    "503": "Briefly unavailable; `Retry-After` says when to try again.",
}
_WRITES = {"post", "put", "patch", "delete"}
_CHECKS_CREDENTIALS = {"POST /api/auth/login"}  # 401: the email or password is incorrect
_SIGN_IN_NEEDED = {Access.SIGNED_IN, Access.STAFF, Access.ADMIN}


def _error_codes(method: str, path: str, operation: dict[str, Any], access: Access) -> set[str]:
    codes = {"503"}
    has_input = bool(operation.get("parameters")) or "requestBody" in operation
    if has_input:
        codes.add("422")
    if "{" in path or "/oauth/" in path:  # sign-in with Google is 404 while it is off
        codes.add("404")
    if method in _WRITES:  # a write may name things that do not exist (a product, a card...)
        codes |= {"400", "403", "404", "409", "413", "429"}
    if access in _SIGN_IN_NEEDED:
        codes |= {"401", "403"}
    if access is Access.PROVIDER:
        codes |= {"400", "401"}
    if f"{method.upper()} {path}" in _CHECKS_CREDENTIALS:
        codes.add("401")
    return codes


def _summary(operation: dict[str, Any]) -> None:
    """A summary a person would write: the docstring's first sentence, not the function name."""
    description = (operation.get("description") or "").strip()
    if description:
        first = description.split("\n\n", 1)[0].replace("\n", " ")
        operation["summary"] = first.split(". ", 1)[0].rstrip(".")[:120]


def describe_api(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with security schemes, and every operation's error answers
    documented with the one `Problem` schema the server sends (FastAPI's default 422 schema,
    which the server never sends, is replaced)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "The sign-in token."},
        "cookie": {"type": "apiKey", "in": "cookie", "name": "elysium_session"},
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            access = access_of(method, path) or Access.ANYONE
            if access in _SIGN_IN_NEEDED:
                operation["security"] = [{"bearer": []}, {"cookie": []}]
            responses = operation.setdefault("responses", {})
            for code in _error_codes(method, path, operation, access):
                responses[code] = {"description": _ERRORS[code], "content": _PROBLEM}
            operation["responses"] = dict(sorted(responses.items()))
            _summary(operation)
    app.openapi_schema = schema
    return schema


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: describe_api(app)  # type: ignore[method-assign]
