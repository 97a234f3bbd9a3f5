"""`/docs` (Swagger UI) and `/redoc` served entirely by the app: offline, under a strict CSP.

The Swagger UI and ReDoc bundles come from the maintained `fastapi-offline` package (its static
files, served here at /docs/static); the page start-up code is a served file, not an inline
script, so `script-src 'self'` holds.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

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
