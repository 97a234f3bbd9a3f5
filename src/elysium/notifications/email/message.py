"""The provider-neutral email message and its MIME form."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr

# Resend's limits, applied to every backend so a message valid for one is valid for all.
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,256}")
_TAG = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")
_FALLBACK_DOMAIN = "elysium.invalid"


_FILENAME = re.compile(r"[A-Za-z0-9._ -]{1,200}")
_CONTENT_TYPE = re.compile(r"[a-z]+/[a-z0-9.+-]+")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with an email (an invoice PDF, say)."""

    filename: str
    content_type: str
    content: bytes

    def __post_init__(self) -> None:
        if not _FILENAME.fullmatch(self.filename):
            raise ValueError(f"attachment filename {self.filename!r}: letters, digits, . _ - only")
        if not _CONTENT_TYPE.fullmatch(self.content_type):
            raise ValueError(f"not a content type: {self.content_type!r}")


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One transactional email, ready for any backend.

    `idempotency_key` names the email, not the attempt: a retried job reuses it so the
    message is delivered at most once.
    """

    to: str
    subject: str
    html: str
    text: str
    from_addr: str
    idempotency_key: str
    reply_to: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        for name in ("to", "subject", "from_addr", "reply_to"):
            value = getattr(self, name)
            if value is not None and ("\r" in value or "\n" in value):
                raise ValueError(f"{name} must be a single line")
        check_address(self.to)
        if not _IDEMPOTENCY_KEY.fullmatch(self.idempotency_key):
            raise ValueError("idempotency_key must be 1-256 visible ASCII characters")
        for key, value in self.tags.items():
            if not (_TAG.fullmatch(key) and _TAG.fullmatch(value)):
                raise ValueError(f"tag {key!r}={value!r}: use letters, digits, '_' and '-'")


def message_id(message: EmailMessage) -> str:
    """A stable Message-ID: the same idempotency key always gives the same id."""
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:40]
    domain = parseaddr(message.from_addr)[1].rpartition("@")[2]
    if not _DOMAIN.fullmatch(domain):
        domain = _FALLBACK_DOMAIN
    return f"<{digest}@{domain}>"


def to_mime(message: EmailMessage, *, sent_at: datetime | None = None) -> MimeMessage:
    """Build a multipart/alternative (text, then HTML) MIME message; with attachments, a
    multipart/mixed holding it and then each file."""
    mime = MimeMessage(policy=policy.SMTP)
    mime["From"] = message.from_addr
    mime["To"] = message.to
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(sent_at or datetime.now(UTC))
    mime["Message-ID"] = message_id(message)
    mime["X-Elysium-Idempotency-Key"] = message.idempotency_key
    if message.tags:
        mime["X-Elysium-Tags"] = "; ".join(f"{k}={v}" for k, v in sorted(message.tags.items()))
    # Quoted-printable keeps both parts 7-bit clean for servers without 8BITMIME.
    mime.set_content(message.text, cte="quoted-printable")
    mime.add_alternative(message.html, subtype="html", cte="quoted-printable")
    for attachment in message.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        mime.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return mime


def check_address(to: str) -> None:
    """ValueError unless `to` holds an email address."""
    if "@" not in parseaddr(to)[1]:
        raise ValueError(f"not an email address: {to!r}")
