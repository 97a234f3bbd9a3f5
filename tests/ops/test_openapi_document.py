"""The OpenAPI document a client generator can trust: one Problem schema for every error, the
security schemes, summaries for people, and sample error answers that match what it says."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from fastapi import FastAPI
from httpx import AsyncClient, Response

from elysium.accounts.permissions import Access, access_of
from factories import Account


def _problem_schema(document: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"]["Problem"]
    return schema


async def test_errors_are_documented_with_the_problem_schema(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert set(document["components"]["securitySchemes"]) == {"bearer", "cookie"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            for code, answer in responses.items():
                if code.startswith(("4", "5")):
                    content = answer["content"]
                    assert list(content) == ["application/problem+json"], where
                    ref = content["application/problem+json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Problem", where
            access = access_of(method, path)
            if access in (Access.SIGNED_IN, Access.STAFF, Access.ADMIN):
                assert {"401", "403"} <= responses.keys(), where
                assert operation["security"] == [{"bearer": []}, {"cookie": []}], where
            if operation.get("parameters") or "requestBody" in operation:
                assert "422" in responses, where
            summary = operation["summary"]
            assert (summary and not summary.istitle()) or len(summary.split()) < 3, where


def _check(document: dict[str, Any], method: str, path: str, response: Response) -> None:
    """The answer's status is documented for the operation and its body matches the schema."""
    operation = document["paths"][path][method]
    code = str(response.status_code)
    assert code in operation["responses"], (method, path, code)
    assert response.headers["content-type"].startswith("application/problem+json")
    jsonschema_rs.validate(_problem_schema(document), response.json())


async def test_sample_error_answers_match_the_document(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    document = (await client.get("/openapi.json")).json()
    samples = [
        ("get", "/api/orders/{order_id}", await client.get("/api/orders/not-a-uuid")),
        ("get", "/api/orders", await client.get("/api/orders")),
        (
            "get",
            "/api/orders/{order_id}",
            await client.get(
                "/api/orders/00000000-0000-4000-8000-000000000000", headers=customer.headers
            ),
        ),
        ("get", "/api/bespoke", await client.get("/api/bespoke", headers=customer.headers)),
        (
            "post",
            "/api/auth/register",
            await client.post("/api/auth/register", json={"email": "x"}),
        ),
        (
            "post",
            "/api/auth/login",
            await client.post("/api/auth/login", json={"email": "a@b.co", "password": "nope"}),
        ),
        (
            "post",
            "/api/checkout",
            await client.post(
                "/api/checkout",
                content=b"{not json",
                headers=customer.headers | {"content-type": "application/json"},
            ),
        ),
    ]
    statuses = {response.status_code for *_, response in samples}
    assert statuses == {400, 401, 403, 404, 422}
    for method, path, response in samples:
        _check(document, method, path, response)


async def test_the_main_request_bodies_carry_examples(client: AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name in (
        "RegisterRequest",
        "LoginRequest",
        "AddressWrite",
        "CartItemCreate",
        "CheckoutRequest",
        "BespokeCreate",
    ):
        assert schemas[name]["examples"], name
