"""Transactional email: messages, templates and delivery backends (no database)."""

from elysium.notifications.email.backends import (
    EmailBackend,
    EmailError,
    OutboxBackend,
    PermanentEmailError,
    ResendBackend,
    SendResult,
    SmtpBackend,
    TransientEmailError,
    build_backend,
)
from elysium.notifications.email.message import Attachment, EmailMessage, check_address
from elysium.notifications.email.templates import (
    TEMPLATE_NAMES,
    RenderedEmail,
    UnknownTemplateError,
    check_context,
    render_email,
    render_message,
)

__all__ = [
    "TEMPLATE_NAMES",
    "Attachment",
    "EmailBackend",
    "EmailError",
    "EmailMessage",
    "OutboxBackend",
    "PermanentEmailError",
    "RenderedEmail",
    "ResendBackend",
    "SendResult",
    "SmtpBackend",
    "TransientEmailError",
    "UnknownTemplateError",
    "build_backend",
    "check_address",
    "check_context",
    "render_email",
    "render_message",
]
