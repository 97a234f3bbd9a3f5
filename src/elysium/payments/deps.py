"""The payment gateway as a dependency: built once per app from its settings.

Tests (or an operator) may put another gateway on `app.state.payment_gateway`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from elysium.payments.gateway import PaymentGateway
from elysium.payments.service import get_gateway


def app_gateway(app: FastAPI) -> PaymentGateway:
    """The app's gateway, created on first use and closed with the app."""
    gateway: PaymentGateway | None = getattr(app.state, "payment_gateway", None)
    if gateway is None:
        gateway = get_gateway(app.state.settings)
        app.state.payment_gateway = gateway
        opened = gateway

        async def _close(_: FastAPI) -> None:
            await opened.aclose()

        app.state.shutdown_hooks.append(_close)
    return gateway


async def payment_gateway(request: Request) -> PaymentGateway:
    return app_gateway(request.app)


GatewayDep = Annotated[PaymentGateway, Depends(payment_gateway)]
