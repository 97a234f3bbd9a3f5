"""Circuit breakers: a provider that keeps failing is not called for a while (calls fail at
once), answers that are not outages do not count, the breaker closes again after a successful
trial, the shop keeps serving, and the state is the `elysium_breaker_state` metric."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from elysium.catalog.sanity import SanityClient, SanityUnavailableError
from elysium.kit.breakers import CircuitOpenError, reset_breakers
from elysium.notifications.email.backends import (
    PermanentEmailError,
    ResendBackend,
    SmtpBackend,
    TransientEmailError,
)
from elysium.notifications.email.message import EmailMessage
from elysium.payments.gateway import PaymentProviderError
from elysium.payments.stripe_gateway import StripeGateway
from factories import checkout, shopper, stocked_piece
from job_helpers import settings_env
from live_server import free_port

THRESHOLD = 3
RESET_SECONDS = 1


class Provider:
    """A fake provider answering every request with `status`, counting requests."""

    def __init__(self) -> None:
        self.status = 503
        self.body = b'{"error": {"message": "down", "type": "api_error"}}'
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def provider() -> Iterator[Provider]:
    fake = Provider()
    yield fake
    fake.server.shutdown()


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    with settings_env(
        BREAKER_FAILURE_THRESHOLD=str(THRESHOLD), BREAKER_RESET_SECONDS=str(RESET_SECONDS)
    ):
        reset_breakers()
        yield
    reset_breakers()


@pytest.fixture
async def stripe(provider: Provider) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway("sk_test_x", "whsec_x", provider.url, max_network_retries=0)
    yield gateway
    await gateway.aclose()


def _message() -> EmailMessage:
    return EmailMessage(
        to="ada@example.com",
        from_addr="atelier@elysium.example",
        subject="Hello",
        html="<p>Hello</p>",
        text="Hello",
        idempotency_key="breaker-test",
    )


async def _metric(client: AsyncClient, provider: str) -> str:
    text = (await client.get("/metrics")).text
    line = next(
        x
        for x in text.splitlines()
        if x.startswith(f'elysium_breaker_state{{provider="{provider}"}}')
    )
    return line.split()[-1]


async def test_stripe_outage_opens_the_breaker_then_a_trial_closes_it(
    stripe: StripeGateway, provider: Provider, client: AsyncClient
) -> None:
    for _ in range(THRESHOLD):
        with pytest.raises(PaymentProviderError) as failed:
            await stripe.retrieve_payment("pi_1")
        assert failed.value.retry_after is None  # a real call that failed
    assert provider.requests == THRESHOLD
    assert await _metric(client, "stripe") == "2.0"

    with pytest.raises(PaymentProviderError) as fast:
        await stripe.retrieve_payment("pi_1")
    assert provider.requests == THRESHOLD  # not called: failed at once
    assert fast.value.retryable
    assert fast.value.headers["Retry-After"] == str(RESET_SECONDS)
    assert isinstance(fast.value.__cause__, CircuitOpenError)

    await asyncio.sleep(RESET_SECONDS + 0.2)
    provider.status = 200
    provider.body = json.dumps(
        {"id": "pi_1", "object": "payment_intent", "status": "canceled", "amount": 100}
        | {"currency": "gbp"}
    ).encode()
    result = await stripe.retrieve_payment("pi_1")  # the trial goes through and closes it
    assert result.intent_id == "pi_1"
    assert await _metric(client, "stripe") == "0.0"


async def test_a_declined_answer_is_not_an_outage(
    stripe: StripeGateway, provider: Provider
) -> None:
    provider.status = 404  # Stripe refusing the request: an answer, retrying will not help
    provider.body = b'{"error": {"message": "No such intent", "type": "invalid_request_error"}}'
    for _ in range(THRESHOLD + 2):
        with pytest.raises(PaymentProviderError) as refused:
            await stripe.retrieve_payment("pi_missing")
        assert not refused.value.retryable
    assert provider.requests == THRESHOLD + 2  # every call made: the breaker stayed closed


async def test_checkout_keeps_serving_while_stripe_is_out(
    app: FastAPI, client: AsyncClient, stripe: StripeGateway, provider: Provider
) -> None:
    app.state.payment_gateway = stripe
    try:
        piece = await stocked_piece(app, level=10)
        answers = []
        for _ in range(THRESHOLD + 2):
            who = await shopper(app, client, piece)
            answers.append(await checkout(client, who))
    finally:
        app.state.payment_gateway = None
    # every order is stored and answered (payment "unavailable", to retry later)...
    assert [a.status_code for a in answers] == [201] * (THRESHOLD + 2)
    assert {a.json()["payment"]["status"] for a in answers} == {"unavailable"}
    # ...and once the breaker opened, Stripe was not called any more
    assert provider.requests == THRESHOLD


async def test_resend_and_sanity_breakers(provider: Provider, client: AsyncClient) -> None:
    resend = ResendBackend("re_x", api_base=provider.url)
    for _ in range(THRESHOLD):
        with pytest.raises(TransientEmailError):
            await resend.send(_message())
    with pytest.raises(TransientEmailError) as fast:
        await resend.send(_message())
    assert isinstance(fast.value.__cause__, CircuitOpenError)
    assert fast.value.retry_after == RESET_SECONDS  # the job is retried after the pause
    assert provider.requests == THRESHOLD
    assert await _metric(client, "resend") == "2.0"

    sanity = SanityClient(
        project_id="p1", dataset="production", base_url=provider.url, max_attempts=1
    )
    async with sanity:
        for _ in range(THRESHOLD):
            with pytest.raises(SanityUnavailableError):
                await sanity.query("*")
        with pytest.raises(SanityUnavailableError) as fast_sanity:
            await sanity.query("*")
    assert isinstance(fast_sanity.value.__cause__, CircuitOpenError)
    assert provider.requests == 2 * THRESHOLD
    assert await _metric(client, "sanity") == "2.0"


async def test_smtp_breaker_and_permanent_answers(provider: Provider, client: AsyncClient) -> None:
    smtp = SmtpBackend("127.0.0.1", free_port(), starttls=False, timeout=2)  # nobody listens
    for _ in range(THRESHOLD):
        with pytest.raises(TransientEmailError) as refused:
            await smtp.send(_message())
        assert not isinstance(refused.value.__cause__, CircuitOpenError)
    with pytest.raises(TransientEmailError) as fast:
        await smtp.send(_message())
    assert isinstance(fast.value.__cause__, CircuitOpenError)
    assert await _metric(client, "smtp") == "2.0"

    provider.status = 422  # Resend refusing the message: permanent, not an outage
    resend = ResendBackend("re_x", api_base=provider.url)
    for _ in range(THRESHOLD + 1):
        with pytest.raises(PermanentEmailError):
            await resend.send(_message())
    assert await _metric(client, "resend") == "0.0"
