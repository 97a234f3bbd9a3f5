"""Health, readiness, metrics, OpenAPI, docs and the `elysium user create` command."""

from __future__ import annotations

from httpx import AsyncClient
from typer.testing import CliRunner

from elysium.cli import app as cli_app
from elysium.config import Settings


async def test_health_endpoints(client: AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_metrics_count_requests(client: AsyncClient) -> None:
    await client.get("/health/live")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert (
        'elysium_http_requests_total{method="GET",route="/health/live",status="200"}'
        in metrics.text
    )


async def test_openapi_and_docs(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/auth/login" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_security_headers(client: AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_user_create_command(settings: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        [
            "user",
            "create",
            "--email",
            "Atelier@Example.com",
            "--password",
            "emerald-cut-2026",
            "--role",
            "staff",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "created staff atelier@example.com" in result.output
    again = runner.invoke(
        cli_app,
        ["user", "create", "--email", "atelier@example.com", "--password", "emerald-cut-2026"],
    )
    assert again.exit_code == 1
    weak = runner.invoke(
        cli_app, ["user", "create", "--email", "x@example.com", "--password", "password"]
    )
    assert weak.exit_code == 1
