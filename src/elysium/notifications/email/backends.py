"""Email backends: a local outbox, SMTP and Resend, behind one `send` protocol."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import aiosmtplib
import httpx

from elysium.kit.breakers import CircuitOpenError, Provider, breaker
from elysium.notifications.email.message import EmailMessage, message_id, to_mime

RESEND_API_BASE = "https://api.resend.com"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider answered: its id for the message, when it gives one."""

    provider_id: str | None


class EmailError(Exception):
    """Sending an email failed."""


class TransientEmailError(EmailError):
    """The send may succeed later (network, timeout, rate limit, provider outage): retry."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentEmailError(EmailError):
    """Retrying the same message cannot succeed (bad address, bad credentials, rejected)."""


class EmailBackend(Protocol):
    """Anything that can deliver an `EmailMessage`."""

    async def send(self, message: EmailMessage) -> SendResult:
        """Deliver the message once; raise Transient/PermanentEmailError on failure."""
        ...


# --- outbox ---------------------------------------------------------------------------------

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def outbox_stem(idempotency_key: str) -> str:
    """A filename-safe form of the key; the hash keeps distinct keys distinct."""
    readable = _UNSAFE_FILENAME_CHARS.sub("_", idempotency_key).strip("._")[:80]
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
    return f"{readable}-{digest}" if readable else digest


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OutboxBackend:
    """Writes each message as `<utc timestamp>-<key>.eml` in a directory (development)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    async def send(self, message: EmailMessage) -> SendResult:
        try:
            name = await asyncio.to_thread(self._write_once, message)
        except OSError as exc:
            raise TransientEmailError(f"outbox write failed: {exc}") from exc
        return SendResult(provider_id=name)

    def _write_once(self, message: EmailMessage) -> str:
        stem = outbox_stem(message.idempotency_key)
        self.directory.mkdir(parents=True, exist_ok=True)
        # The lock makes check-then-write atomic across threads and worker processes.
        with (self.directory / ".outbox.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            existing = next(self.directory.glob(f"*-{stem}.eml"), None)
            if existing is not None:
                return existing.name
            now = datetime.now(UTC)
            path = self.directory / f"{now:%Y%m%dT%H%M%S%fZ}-{stem}.eml"
            _write_atomically(path, to_mime(message, sent_at=now).as_bytes())
            return path.name


@asynccontextmanager
async def _guarded(provider: Provider) -> AsyncIterator[None]:
    """A send through the provider's circuit breaker: transient failures count as an outage;
    while it is open the send fails at once as transient, so the job is retried later."""
    try:
        async with breaker(provider, outage=lambda exc: isinstance(exc, TransientEmailError)):
            yield
    except CircuitOpenError as exc:
        raise TransientEmailError(str(exc), retry_after=exc.retry_after) from exc


# --- SMTP -----------------------------------------------------------------------------------


def _smtp_error(exc: aiosmtplib.SMTPException) -> EmailError:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        kind: type[EmailError] = PermanentEmailError if permanent else TransientEmailError
        return kind(f"SMTP refused the recipient: {detail}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        kind = PermanentEmailError if exc.code >= 500 else TransientEmailError
        return kind(f"SMTP replied {exc.code} {exc.message}")
    if isinstance(exc, ConnectionError | TimeoutError):
        return TransientEmailError(f"SMTP connection failed: {exc}")
    # Anything else (STARTTLS or AUTH unsupported ...) is configuration: retrying won't help.
    return PermanentEmailError(f"SMTP error: {exc}")


class SmtpBackend:
    """Sends through an SMTP server with aiosmtplib, one connection per message."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> SendResult:
        async with _guarded(Provider.SMTP):
            return await self._send(message)

    async def _send(self, message: EmailMessage) -> SendResult:
        mime = to_mime(message)
        try:
            await aiosmtplib.send(
                mime,
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password if self.username else None,
                start_tls=self.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPException as exc:
            raise _smtp_error(exc) from exc
        except OSError as exc:  # refused connection, DNS, TLS handshake
            raise TransientEmailError(f"SMTP connection failed: {exc}") from exc
        return SendResult(provider_id=message_id(message))


# --- Resend ---------------------------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _resend_result(response: httpx.Response) -> SendResult:
    body = _json_or_empty(response)
    if response.is_success:
        provider_id = body.get("id")
        return SendResult(provider_id=provider_id if isinstance(provider_id, str) else None)
    status = response.status_code
    detail = f"Resend answered {status}: {body.get('message') or response.reason_phrase}"
    # A concurrent request with the same key is still in flight: try again shortly.
    concurrent = status == 409 and body.get("name") == "concurrent_idempotent_requests"
    if status in (408, 429) or status >= 500 or concurrent:
        raise TransientEmailError(detail, retry_after=_retry_after(response))
    raise PermanentEmailError(detail)


class ResendBackend:
    """Sends through Resend's HTTP API; the idempotency key makes retries safe."""

    def __init__(
        self,
        api_key: str,
        api_base: str = RESEND_API_BASE,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.api_key = api_key
        self.api_base = api_base.rstrip("/")
        self.http = http
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> SendResult:
        async with _guarded(Provider.RESEND):
            return await self._send(message)

    async def _send(self, message: EmailMessage) -> SendResult:
        try:
            if self.http is not None:
                response = await self._post(self.http, message)
            else:
                async with httpx.AsyncClient(timeout=self.timeout) as http:
                    response = await self._post(http, message)
        except httpx.TransportError as exc:
            raise TransientEmailError(f"Resend unreachable: {exc!r}") from exc
        return _resend_result(response)

    async def _post(self, http: httpx.AsyncClient, message: EmailMessage) -> httpx.Response:
        return await http.post(
            f"{self.api_base}/emails",
            json=resend_payload(message),
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Idempotency-Key": message.idempotency_key,
            },
            timeout=self.timeout,
        )


def resend_payload(message: EmailMessage) -> dict[str, Any]:
    """The JSON body of Resend's `POST /emails`."""
    payload: dict[str, Any] = {
        "from": message.from_addr,
        "to": [message.to],
        "subject": message.subject,
        "html": message.html,
        "text": message.text,
    }
    if message.reply_to:
        payload["reply_to"] = message.reply_to
    if message.tags:
        payload["tags"] = [{"name": k, "value": v} for k, v in sorted(message.tags.items())]
    if message.attachments:
        payload["attachments"] = [
            {
                "filename": a.filename,
                "content": base64.b64encode(a.content).decode("ascii"),
                "content_type": a.content_type,
            }
            for a in message.attachments
        ]
    return payload


# --- factory --------------------------------------------------------------------------------


def build_backend(
    kind: Literal["outbox", "smtp", "resend"],
    *,
    outbox_dir: Path | str = Path(".elysium/outbox"),
    smtp_host: str = "localhost",
    smtp_port: int = 587,
    smtp_username: str | None = None,
    smtp_password: str | None = None,
    smtp_starttls: bool = True,
    resend_api_key: str | None = None,
    resend_api_base: str = RESEND_API_BASE,
    http: httpx.AsyncClient | None = None,
    timeout: float = 10.0,
) -> EmailBackend:
    """The backend named by `EMAIL_BACKEND`, from plain (already unwrapped) settings."""
    if kind == "outbox":
        return OutboxBackend(Path(outbox_dir))
    if kind == "smtp":
        return SmtpBackend(
            smtp_host, smtp_port, smtp_username, smtp_password, smtp_starttls, timeout
        )
    if kind == "resend":
        if not resend_api_key:
            raise ValueError("EMAIL_BACKEND=resend needs RESEND_API_KEY")
        return ResendBackend(resend_api_key, resend_api_base, http, timeout)
    raise ValueError(f"unknown email backend {kind!r}: use outbox, smtp or resend")
