"""The Sanity webhook: verify the signature, then upsert or soft-delete one document.

Sanity sends the webhook's projection as the body (the whole document when none is set) and
names the mutation in the `sanity-operation` header. A delete is recognised by that header, by
a projection field `operation: "delete"` (`delta::operation()`), or by a body that carries
nothing but the id. Projecting with `sanity.RESOLVING_PROJECTION` lets the webhook name the
product's image; without it the image already stored is kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.catalog.importer import (
    apply_sanity_documents,
    category_slugs_by_id,
    collection_slugs_by_id,
    soft_delete_documents,
)
from elysium.catalog.sanity import (
    CATALOGUE_TYPES,
    SIGNATURE_HEADER_NAME,
    InvalidDocumentError,
    InvalidSignatureError,
    References,
    is_published_id,
    normalize_document,
    verify_webhook_signature,
)
from elysium.errors import (
    ElysiumError,
    ServiceUnavailableError,
    UnauthorizedError,
    ValidationFailedError,
)

Outcome = Literal["applied", "unchanged", "deleted", "ignored"]
_ID_ONLY_KEYS = frozenset({"_id", "_type", "operation"})


def verify_sanity_webhook(secret: SecretStr | None, raw_body: bytes, signature: str | None) -> None:
    """503 when no secret is configured; 401 when the signature is missing, wrong or stale."""
    if secret is None or not secret.get_secret_value():
        raise ServiceUnavailableError("Sanity webhooks are not configured on this server.")
    try:
        verify_webhook_signature(raw_body, signature, secret.get_secret_value())
    except InvalidSignatureError as exc:
        raise UnauthorizedError(f"Webhook signature refused: {exc}.", headers={}) from exc


def _document(raw_body: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw_body)
    except (ValueError, RecursionError) as exc:
        raise ElysiumError("The body is not JSON.") from exc
    if not isinstance(body, dict):
        raise ElysiumError("The body must be a JSON object.")
    return body


def _is_delete(body: Mapping[str, Any], operation: str | None) -> bool:
    return operation == "delete" or body.get("operation") == "delete" or set(body) <= _ID_ONLY_KEYS


async def handle_sanity_webhook(
    session: AsyncSession,
    secret: SecretStr | None,
    raw_body: bytes,
    headers: Mapping[str, str],
) -> tuple[Outcome, str]:
    """Apply one signed webhook delivery; returns what happened and to which document id."""
    verify_sanity_webhook(secret, raw_body, headers.get(SIGNATURE_HEADER_NAME))
    body = _document(raw_body)
    doc_id = body.get("_id") or headers.get("sanity-document-id")
    if not isinstance(doc_id, str) or not doc_id:
        raise ValidationFailedError(
            "The document has no id.", errors=[{"field": "_id", "message": "Required."}]
        )
    if not is_published_id(doc_id):
        return "ignored", doc_id
    if _is_delete(body, headers.get("sanity-operation")):
        return (
            "deleted" if await soft_delete_documents(session, [doc_id]) else "unchanged"
        ), doc_id
    if body.get("_type") not in CATALOGUE_TYPES:
        return "ignored", doc_id
    refs = References(
        collection_slugs=await collection_slugs_by_id(session),
        category_slugs=await category_slugs_by_id(session),
    )
    try:
        record = normalize_document(body, refs=refs)
    except InvalidDocumentError as exc:
        raise ValidationFailedError(
            "The document cannot be used.", errors=[{"field": "body", "message": str(exc)}]
        ) from exc
    result = await apply_sanity_documents(session, [record])
    return ("applied" if result.changed else "unchanged"), doc_id
