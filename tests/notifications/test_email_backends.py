"""Email backends against real local peers: an aiosmtpd server and an HTTP server playing Resend."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from elysium.notifications.email.backends import (
    OutboxBackend,
    PermanentEmailError,
    ResendBackend,
    SmtpBackend,
    TransientEmailError,
    build_backend,
    resend_payload,
)
from elysium.notifications.email.message import Attachment, EmailMessage, message_id, to_mime
from peers.http_server import JSON, QuietHandler, serving

FROM = "ELYSIUM <atelier@elysium.example>"

# aiosmtpd warns that AUTH without TLS is unsafe: these servers live on 127.0.0.1 for a test.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def make_message(
    to: str = "ada@example.com", key: str = "order-confirmation/ELY-1"
) -> EmailMessage:
    return EmailMessage(
        to=to,
        subject="Your ELYSIUM order ELY-1 — £4,500.00",
        html="<p>Thank you for your order of <strong>£4,500.00</strong>.</p>",
        text="Thank you for your order of £4,500.00.\n",
        from_addr=FROM,
        idempotency_key=key,
        reply_to="concierge@elysium.example",
        tags={"template": "order_confirmation"},
    )


def parse(raw: bytes) -> MimeMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, MimeMessage)
    return parsed


def body(parsed: MimeMessage, subtype: str) -> str:
    part = parsed.get_body((subtype,))
    assert isinstance(part, MimeMessage)
    content = part.get_content()
    assert isinstance(content, str)
    return content


def outbox_files(directory: Path, pattern: str = "*.eml") -> list[Path]:
    return sorted(directory.glob(pattern))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- the message ----------------------------------------------------------------------------


def test_message_id_is_stable_per_idempotency_key() -> None:
    first, again = make_message(key="k-1"), make_message(key="k-1")

    assert message_id(first) == message_id(again)
    assert message_id(first) != message_id(make_message(key="k-2"))
    assert re.fullmatch(r"<[0-9a-f]{40}@elysium\.example>", message_id(first))


def test_mime_has_text_then_html_alternatives() -> None:
    parsed = parse(to_mime(make_message()).as_bytes())

    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Reply-To"] == "concierge@elysium.example"
    assert "£4,500.00" in body(parsed, "html")


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Hello\r\nBcc: evil@example.com"},
        {"to": "not-an-address"},
        {"idempotency_key": ""},
        {"idempotency_key": "has space"},
        {"idempotency_key": "x" * 257},
        {"tags": {"template": "order confirmation"}},
    ],
)
def test_message_refuses_unsafe_fields(changes: dict[str, Any]) -> None:
    fields: dict[str, Any] = {
        "to": "ada@example.com",
        "subject": "Hello",
        "html": "<p>Hi</p>",
        "text": "Hi",
        "from_addr": FROM,
        "idempotency_key": "key-1",
    }
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        EmailMessage(**(fields | changes))


# --- outbox ---------------------------------------------------------------------------------


async def test_outbox_writes_a_parseable_eml(tmp_path: Path) -> None:
    message = make_message()

    result = await OutboxBackend(tmp_path).send(message)

    files = outbox_files(tmp_path)
    assert [f.name for f in files] == [result.provider_id]
    assert re.fullmatch(r"\d{8}T\d{12}Z-order-confirmation_ELY-1-[0-9a-f]{12}\.eml", files[0].name)
    parsed = parse(files[0].read_bytes())
    assert parsed["To"] == "ada@example.com"
    assert parsed["Subject"] == message.subject
    assert parsed["Message-ID"] == message_id(message)
    assert "£4,500.00" in body(parsed, "plain")
    assert "<strong>£4,500.00</strong>" in body(parsed, "html")
    assert outbox_files(tmp_path, ".*.tmp") == []


async def test_outbox_is_idempotent_on_the_key(tmp_path: Path) -> None:
    outbox = OutboxBackend(tmp_path / "outbox")

    first = await outbox.send(make_message())
    again = await outbox.send(make_message())
    racing = await asyncio.gather(*(outbox.send(make_message()) for _ in range(8)))

    assert len(outbox_files(tmp_path / "outbox")) == 1
    assert {first.provider_id, again.provider_id} | {r.provider_id for r in racing} == {
        first.provider_id
    }


async def test_outbox_keeps_keys_that_sanitize_alike_apart(tmp_path: Path) -> None:
    outbox = OutboxBackend(tmp_path)

    await outbox.send(make_message(key="order/1"))
    await outbox.send(make_message(key="order:1"))

    assert len(outbox_files(tmp_path)) == 2


# --- SMTP against a real in-process aiosmtpd server -----------------------------------------

USERNAME, PASSWORD = "atelier", "correct horse battery"


@dataclass
class Received:
    envelope: Envelope
    login: bytes | None


@dataclass
class Recorder:
    """An aiosmtpd handler: refuses some recipients, records accepted mail."""

    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("bounce@"):
            return "550 5.1.1 No such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        auth = session.auth_data
        self.received.append(Received(envelope, auth.login if auth else None))
        return "250 2.0.0 Queued"


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, auth_data=auth_data if ok else None, handled=False)


@asynccontextmanager
async def smtp_server(*, auth_required: bool = False) -> AsyncIterator[tuple[int, Recorder]]:
    """A real SMTP server on 127.0.0.1, in this event loop, with AUTH offered over plain text."""
    recorder = Recorder()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            recorder,
            hostname="mx.test",
            authenticator=authenticate,
            auth_required=auth_required,
            auth_require_tls=False,
            loop=loop,
        ),
        "127.0.0.1",
        0,
    )
    try:
        yield server.sockets[0].getsockname()[1], recorder
    finally:
        server.close()
        await server.wait_closed()


def smtp_backend(
    port: int, username: str | None = None, password: str | None = None
) -> SmtpBackend:
    return SmtpBackend("127.0.0.1", port, username, password, starttls=False, timeout=5)


async def test_smtp_delivers_both_parts_with_stable_message_id() -> None:
    message = make_message()
    async with smtp_server() as (port, recorder):
        result = await smtp_backend(port).send(message)

    [received] = recorder.received
    assert received.envelope.mail_from == "atelier@elysium.example"
    assert received.envelope.rcpt_tos == ["ada@example.com"]
    assert isinstance(received.envelope.content, bytes)
    parsed = parse(received.envelope.content)
    assert parsed["To"] == "ada@example.com"
    assert parsed["Subject"] == message.subject
    assert parsed["Message-ID"] == message_id(message) == result.provider_id
    assert "£4,500.00" in body(parsed, "plain")
    assert "<strong>£4,500.00</strong>" in body(parsed, "html")
    assert received.login is None


async def test_smtp_authenticates_when_configured() -> None:
    async with smtp_server(auth_required=True) as (port, recorder):
        await smtp_backend(port, USERNAME, PASSWORD).send(make_message())

    assert [r.login for r in recorder.received] == [USERNAME.encode()]


async def test_smtp_wrong_password_is_permanent() -> None:
    async with smtp_server(auth_required=True) as (port, recorder):
        with pytest.raises(PermanentEmailError, match="535"):
            await smtp_backend(port, USERNAME, "wrong").send(make_message())

    assert recorder.received == []


async def test_smtp_missing_credentials_is_permanent() -> None:
    async with smtp_server(auth_required=True) as (port, _):
        with pytest.raises(PermanentEmailError, match="530"):
            await smtp_backend(port).send(make_message())


async def test_smtp_5xx_recipient_is_permanent() -> None:
    async with smtp_server() as (port, _):
        with pytest.raises(PermanentEmailError, match="550"):
            await smtp_backend(port).send(make_message(to="bounce@example.com"))


async def test_smtp_4xx_recipient_is_transient() -> None:
    async with smtp_server() as (port, _):
        with pytest.raises(TransientEmailError, match="451"):
            await smtp_backend(port).send(make_message(to="busy@example.com"))


async def test_smtp_unreachable_server_is_transient() -> None:
    with pytest.raises(TransientEmailError):
        await smtp_backend(closed_port()).send(make_message())


# --- Resend against a real local HTTP server -------------------------------------------------

API_KEY = "re_test_4f2a9c"


@dataclass
class ResendRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeResend:
    """Answers like Resend: scripted replies first, then 200 with a fresh id."""

    base_url: str
    requests: list[ResendRequest] = field(default_factory=list)
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def next_reply(self) -> tuple[int, dict[str, Any]]:
        if self.replies:
            return self.replies.pop(0)
        return 200, {"id": f"email-{len(self.requests)}"}


def handler_for(fake: FakeResend) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            fake.requests.append(ResendRequest(self.path, dict(self.headers), json.loads(raw)))
            status, answer = fake.next_reply()
            headers = JSON | ({"Retry-After": "2"} if status == 429 else {})
            self.reply(status, json.dumps(answer).encode(), headers)

    return Handler


@pytest.fixture
def resend_server() -> Iterator[FakeResend]:
    fake = FakeResend(base_url="")
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))) as url:
        fake.base_url = url
        yield fake


async def test_resend_posts_the_documented_request(resend_server: FakeResend) -> None:
    message = make_message()

    result = await ResendBackend(API_KEY, resend_server.base_url).send(message)

    assert result.provider_id == "email-1"
    [request] = resend_server.requests
    assert request.path == "/emails"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Idempotency-Key"] == "order-confirmation/ELY-1"
    assert request.body == {
        "from": FROM,
        "to": ["ada@example.com"],
        "subject": message.subject,
        "html": message.html,
        "text": message.text,
        "reply_to": "concierge@elysium.example",
        "tags": [{"name": "template", "value": "order_confirmation"}],
    }


async def test_resend_503_is_transient_then_the_retry_succeeds(resend_server: FakeResend) -> None:
    resend_server.replies.append((503, {"name": "internal_server_error", "message": "down"}))
    async with httpx.AsyncClient() as http:
        backend = ResendBackend(API_KEY, resend_server.base_url + "/", http=http)

        with pytest.raises(TransientEmailError, match="503"):
            await backend.send(make_message())
        result = await backend.send(make_message())

    assert result.provider_id == "email-2"
    keys = [r.headers["Idempotency-Key"] for r in resend_server.requests]
    assert keys == ["order-confirmation/ELY-1"] * 2  # the retry reuses the key


async def test_resend_429_is_transient_with_retry_after(resend_server: FakeResend) -> None:
    resend_server.replies.append((429, {"name": "rate_limit_exceeded", "message": "slow down"}))

    with pytest.raises(TransientEmailError) as caught:
        await ResendBackend(API_KEY, resend_server.base_url).send(make_message())

    assert caught.value.retry_after == 2.0


async def test_resend_422_is_permanent(resend_server: FakeResend) -> None:
    error = {"statusCode": 422, "name": "validation_error", "message": "Invalid `to` field."}
    resend_server.replies.append((422, error))

    with pytest.raises(PermanentEmailError, match="422: Invalid `to` field"):
        await ResendBackend(API_KEY, resend_server.base_url).send(make_message())


async def test_resend_concurrent_idempotent_request_is_transient(
    resend_server: FakeResend,
) -> None:
    resend_server.replies.append((409, {"name": "concurrent_idempotent_requests", "message": ""}))

    with pytest.raises(TransientEmailError, match="409"):
        await ResendBackend(API_KEY, resend_server.base_url).send(make_message())


async def test_resend_unreachable_is_transient() -> None:
    backend = ResendBackend(API_KEY, f"http://127.0.0.1:{closed_port()}", timeout=2)

    with pytest.raises(TransientEmailError, match="unreachable"):
        await backend.send(make_message())


def test_resend_payload_leaves_out_empty_options() -> None:
    bare = EmailMessage("ada@example.com", "Hi", "<p>Hi</p>", "Hi", FROM, "key-1")

    assert set(resend_payload(bare)) == {"from", "to", "subject", "html", "text"}


# --- factory --------------------------------------------------------------------------------


def test_build_backend_picks_each_kind(tmp_path: Path) -> None:
    outbox = build_backend("outbox", outbox_dir=tmp_path)
    smtp = build_backend("smtp", smtp_host="mail.test", smtp_port=2525, smtp_starttls=False)
    resend = build_backend("resend", resend_api_key=API_KEY, resend_api_base="http://r.test")

    assert isinstance(outbox, OutboxBackend)
    assert outbox.directory == tmp_path
    assert isinstance(smtp, SmtpBackend)
    assert (smtp.host, smtp.port, smtp.starttls) == ("mail.test", 2525, False)
    assert isinstance(resend, ResendBackend)
    assert resend.api_base == "http://r.test"


def test_build_backend_refuses_resend_without_a_key() -> None:
    with pytest.raises(ValueError, match="RESEND_API_KEY"):
        build_backend("resend")


def test_build_backend_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown email backend"):
        build_backend("carrier-pigeon")  # type: ignore[arg-type]


# --- attachments ------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n% an invoice\n%%EOF\n"


def _with_invoice() -> EmailMessage:
    return dataclasses.replace(
        make_message(key="order-confirmation/ELY-2"),
        attachments=(Attachment("INV-2026-000001.pdf", "application/pdf", PDF_BYTES),),
    )


def _attached(parsed: MimeMessage) -> list[tuple[str | None, str, bytes]]:
    found = []
    for part in parsed.iter_attachments():
        assert isinstance(part, MimeMessage)
        content = part.get_content()
        assert isinstance(content, bytes)
        found.append((part.get_filename(), part.get_content_type(), content))
    return found


async def test_every_backend_carries_attachments(tmp_path: Path, resend_server: FakeResend) -> None:
    message = _with_invoice()
    expected = [("INV-2026-000001.pdf", "application/pdf", PDF_BYTES)]
    await OutboxBackend(tmp_path).send(message)
    [written] = outbox_files(tmp_path)
    outbox = parse(written.read_bytes())
    assert _attached(outbox) == expected
    assert "£4,500.00" in body(outbox, "plain")
    async with smtp_server() as (port, recorder):
        await smtp_backend(port).send(message)
    content = recorder.received[0].envelope.content
    assert isinstance(content, bytes)
    assert _attached(parse(content)) == expected
    await ResendBackend(API_KEY, resend_server.base_url).send(message)
    [request] = resend_server.requests
    assert request.body["attachments"] == [
        {
            "filename": "INV-2026-000001.pdf",
            "content": base64.b64encode(PDF_BYTES).decode(),
            "content_type": "application/pdf",
        }
    ]


@pytest.mark.parametrize(
    ("filename", "content_type"), [("../etc/passwd", "application/pdf"), ("a.pdf", "pdf")]
)
def test_attachments_refuse_unsafe_names_and_types(filename: str, content_type: str) -> None:
    with pytest.raises(ValueError, match=r"attachment filename|content type"):
        Attachment(filename, content_type, b"x")
