"""Fixtures for tests against localstripe: the peer, the app switched to Stripe, and a
receiver of localstripe's real signed webhook deliveries. A conftest imports them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from elysium.config import Settings
from elysium.payments.gateway import PaymentGateway
from elysium.payments.service import get_gateway
from job_helpers import settings_env
from peers.localstripe_peer import SECRET_KEY, STRIPE_WEBHOOK_SECRET, LocalStripe, WebhookReceiver


@pytest.fixture
def peer() -> LocalStripe:
    """The process-wide localstripe, emptied for this test."""
    server = LocalStripe.shared()
    server.reset()
    return server


@pytest.fixture
def receiver(peer: LocalStripe) -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        peer.register_webhook(server.url, STRIPE_WEBHOOK_SECRET)
        yield server


@pytest.fixture
async def gateway(
    app: FastAPI, settings: Settings, peer: LocalStripe
) -> AsyncIterator[PaymentGateway]:
    """The app switched to PAYMENT_PROVIDER=stripe, pointed at localstripe."""
    stripe_settings = settings.model_copy(
        update={
            "payment_provider": "stripe",
            "stripe_secret_key": SecretStr(SECRET_KEY),
            "stripe_webhook_secret": SecretStr(STRIPE_WEBHOOK_SECRET),
            "stripe_api_base": peer.api_base,
        }
    )
    built = get_gateway(stripe_settings)
    app.state.payment_gateway = built
    with settings_env(  # job bodies (webhook events, refund pay-outs) build their own gateway
        PAYMENT_PROVIDER="stripe",
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET,
        STRIPE_API_BASE=peer.api_base,
    ):
        yield built
    app.state.payment_gateway = None
    await built.aclose()
