"""Transactional email through the job queue: logged and queued in the business transaction,
delivered by the `deliver_email` job with the row's idempotency key (never twice)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.config import Settings, get_settings
from elysium.db import rows_affected, table_of
from elysium.jobs import PermanentJobError, enqueue, job_session
from elysium.kit.clock import utcnow
from elysium.kit.metrics import EMAILS
from elysium.models import SentEmail, User
from elysium.notifications.email import (
    Attachment,
    EmailBackend,
    EmailMessage,
    PermanentEmailError,
    TransientEmailError,
    build_backend,
    check_address,
    check_context,
    render_message,
)

log = logging.getLogger(__name__)

DELIVER_EMAIL = "deliver_email"
# Emails carrying a one-time link (a bearer secret until used): once sent, the log keeps no
# copy of the link, so the log is never a store of usable tokens.
ONE_TIME_LINK_TEMPLATES = frozenset({"password_reset", "verify_email"})


def encode_context(value: Any) -> Any:
    """A template context as JSON: dates and datetimes become tagged ISO strings."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Mapping):
        return {str(key): encode_context(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode_context(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def decode_context(value: Any) -> Any:
    """The inverse of `encode_context`."""
    if isinstance(value, dict):
        if value.keys() == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        if value.keys() == {"$date"}:
            return date.fromisoformat(value["$date"])
        return {key: decode_context(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_context(item) for item in value]
    return value


AttachmentBuilder = Callable[
    [AsyncSession, Settings, Mapping[str, str]], Awaitable[Attachment | None]
]
ATTACHMENT_BUILDERS: dict[str, AttachmentBuilder] = {}
"""How the email job builds each kind of attachment; registered by the domains' `tasks.py`."""


def attachment_builder(kind: str) -> Callable[[AttachmentBuilder], AttachmentBuilder]:
    """Register the function the email job calls to build attachments of `kind` (say, an
    order's invoice PDF) from the parameters stored with the email."""

    def register(build: AttachmentBuilder) -> AttachmentBuilder:
        ATTACHMENT_BUILDERS[kind] = build
        return build

    return register


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """An attachment the email job builds when it sends (never inside the business
    transaction): its kind and the plain parameters its builder needs."""

    kind: str
    params: Mapping[str, str]


async def _attachments(
    session: AsyncSession, settings: Settings, refs: list[dict[str, Any]] | None
) -> tuple[Attachment, ...]:
    built = []
    for ref in refs or []:
        build = ATTACHMENT_BUILDERS.get(ref["kind"])
        if build is None:
            raise PermanentEmailError(f"no builder for attachments of kind {ref['kind']!r}")
        attachment = await build(session, settings, ref["params"])
        if attachment is not None:
            built.append(attachment)
    return tuple(built)


def _message(
    settings: Settings,
    email: SentEmail,
    context: Mapping[str, Any],
    attachments: tuple[Attachment, ...],
) -> EmailMessage:
    return render_message(
        email.template,
        context,
        to=email.to,
        from_addr=settings.email_from,
        idempotency_key=email.idempotency_key,
        attachments=attachments,
    )


_SENT_EMAILS = table_of(SentEmail)
_LOG_EMAIL = (
    insert(_SENT_EMAILS)
    .on_conflict_do_nothing(index_elements=[_SENT_EMAILS.c.idempotency_key])
    .returning(_SENT_EMAILS.c.id)
)


async def send_email(
    session: AsyncSession,
    *,
    to: str,
    template: str,
    context: Mapping[str, Any],
    idempotency_key: str,
    attachments: tuple[AttachmentRef, ...] = (),
) -> None:
    """Log and queue one email in the caller's transaction; a repeated key is a no-op.
    Attachments (an invoice PDF, say) are built by the job that sends the email.

    The template and context are checked now (the job renders), so an unknown template, a
    missing context key or a bad address fails the caller (UnknownTemplateError,
    jinja2.UndefinedError, ValueError) rather than the job.
    """
    check_context(template, context)
    check_address(to)
    row = {
        "to": to,
        "template": template,
        "context": encode_context(context),
        "idempotency_key": idempotency_key,
        "attachments": [{"kind": a.kind, "params": dict(a.params)} for a in attachments] or None,
    }
    email_id = (await session.execute(_LOG_EMAIL, row)).scalar_one_or_none()
    if email_id is None:
        return
    await enqueue(
        session, DELIVER_EMAIL, queue="email", lock=f"email:{email_id}", email_id=str(email_id)
    )


async def notify_staff(
    session: AsyncSession,
    settings: Settings,
    *,
    template: str,
    context: Mapping[str, Any],
    idempotency_key: str,
) -> None:
    """An email to the atelier (`STAFF_EMAIL`)."""
    await send_email(
        session,
        to=settings.staff_email,
        template=template,
        context=context,
        idempotency_key=idempotency_key,
    )


async def notify_welcome(session: AsyncSession, settings: Settings, user: User) -> None:
    """The welcome email to a newly registered customer."""
    base = settings.public_base_url.rstrip("/")
    context = {
        "customer_name": user.name or "Client",
        "shop_url": f"{base}/collections",
        "account_url": f"{base}/account",
    }
    await send_email(
        session,
        to=user.email,
        template="welcome",
        context=context,
        idempotency_key=f"welcome:{user.id}",
    )


def email_backend(settings: Settings) -> EmailBackend:
    """The backend `EMAIL_BACKEND` names."""
    return build_backend(
        settings.email_backend,
        outbox_dir=settings.email_outbox_dir,
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        smtp_username=settings.smtp_username,
        smtp_password=_secret(settings.smtp_password),
        smtp_starttls=settings.smtp_starttls,
        resend_api_key=_secret(settings.resend_api_key),
        resend_api_base=settings.resend_api_base,
    )


def _secret(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())


async def deliver_email(email_id: uuid.UUID) -> None:
    """Send one logged email (the `deliver_email` job's body).

    Already sent: nothing to do. A transient failure is recorded and re-raised so the job is
    retried; a permanent one marks the email `failed` and fails the job without retries.
    """
    settings = get_settings()
    async with job_session() as session:
        email = await session.get(SentEmail, email_id)
        if email is None or email.status == "sent":
            log.info("email %s: nothing to send", email_id)
            return
        try:
            attachments = await _attachments(session, settings, email.attachments)
        except PermanentEmailError as exc:
            attachments_error: PermanentEmailError | None = exc
        else:
            attachments_error = None
    if attachments_error is not None:
        await _record_attempt(email_id, "failed", error=str(attachments_error))
        raise PermanentJobError(str(attachments_error)) from attachments_error
    message = _message(settings, email, decode_context(email.context or {}), attachments)
    sent = EMAILS.labels(settings.email_backend, "sent")
    failed = EMAILS.labels(settings.email_backend, "failed")
    try:
        result = await email_backend(settings).send(message)
    except TransientEmailError as exc:
        failed.inc()
        await _record_attempt(email_id, "queued", error=str(exc))
        raise
    except PermanentEmailError as exc:
        failed.inc()
        await _record_attempt(email_id, "failed", error=str(exc))
        raise PermanentJobError(str(exc)) from exc
    sent.inc()
    await _record_attempt(
        email_id,
        "sent",
        provider_id=result.provider_id,
        forget_context=email.template in ONE_TIME_LINK_TEMPLATES,
    )


async def _record_attempt(
    email_id: uuid.UUID,
    status: str,
    *,
    error: str | None = None,
    provider_id: str | None = None,
    forget_context: bool = False,
) -> None:
    values: dict[str, Any] = {"status": status, "attempts": SentEmail.attempts + 1}
    if error is not None:
        values["last_error"] = error[:4000]
    if status == "sent":
        values |= {"provider_id": provider_id, "sent_at": utcnow()}
    if forget_context:
        values["context"] = None
    async with job_session() as session:
        await session.execute(update(SentEmail).where(SentEmail.id == email_id).values(**values))


async def forget_email_contexts(session: AsyncSession, before: datetime) -> int:
    """Drop the context (the body data) of emails logged before `before` and no longer
    waiting to be sent; the count changed."""
    result = await session.execute(
        update(SentEmail)
        .where(
            SentEmail.status != "queued",
            SentEmail.context.is_not(None),
            SentEmail.created_at < before,
        )
        .values(context=None, attachments=None)
    )
    return rows_affected(result)
