"""Query strings validated as one pydantic model, for hot read paths.

FastAPI validates each declared query parameter on its own, at a cost per parameter on every
request. A cached read can instead look its answer up by the raw query string first and
validate only on a miss (what was cached was valid); `openapi_parameters` documents the model's
fields as the query parameters they are.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

M = TypeVar("M", bound=BaseModel)


def parse_query(model: type[M], params: QueryParams) -> M:
    """The query as `model` (the last value of a repeated parameter wins, as in FastAPI);
    a 422 naming the fields otherwise."""
    try:
        return model.model_validate(dict(params.items()))
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("query", *error.get("loc", ()))}
            for error in exc.errors(include_url=False, include_context=False)
        ]
        raise RequestValidationError(errors) from exc


def _inline(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _inline(definitions[ref.rsplit("/", 1)[1]], definitions)
    inlined: dict[str, Any] = {}
    for key, value in schema.items():
        if isinstance(value, dict):
            inlined[key] = _inline(value, definitions)
        elif isinstance(value, list):
            inlined[key] = [_inline(v, definitions) if isinstance(v, dict) else v for v in value]
        else:
            inlined[key] = value
    return inlined


def openapi_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting each field of `model` as an optional query parameter."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    parameters = []
    for name, field_schema in schema["properties"].items():
        inlined = _inline(field_schema, definitions)
        description = inlined.pop("description", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", []),
            "schema": inlined,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return {"parameters": parameters}
