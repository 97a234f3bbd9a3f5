"""Circuit breakers around the outside providers (Stripe, Sanity, Resend, SMTP).

Built on `purgatory`, an asyncio circuit breaker: after `BREAKER_FAILURE_THRESHOLD` failures
in a row a provider's breaker opens and calls to it fail at once with `CircuitOpenError` for
`BREAKER_RESET_SECONDS`; then one trial call goes through (half-open) and closes the breaker
again on success. Only outages count as failures (the caller says which errors are outages: a
declined card or a refused address is an answer, not an outage). The state of every breaker is
the `elysium_breaker_state` gauge. State is per process (in memory): each web or worker
process learns of an outage from its own calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any

import structlog
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from elysium.config import get_settings
from elysium.kit.metrics import BREAKER_REJECTED, BREAKER_STATE, BreakerState

log = structlog.get_logger(__name__)


class Provider(StrEnum):
    """The outside services guarded by a breaker."""

    STRIPE = "stripe"
    SANITY = "sanity"
    RESEND = "resend"
    SMTP = "smtp"


_STATES = {
    "closed": BreakerState.CLOSED,
    "half-opened": BreakerState.HALF_OPEN,
    "opened": BreakerState.OPEN,
}


class CircuitOpenError(Exception):
    """The provider's breaker is open: the call was not made. `retry_after` in seconds."""

    def __init__(self, provider: Provider, retry_after: int) -> None:
        super().__init__(f"{provider} is failing; calls are paused for up to {retry_after} s")
        self.provider = provider
        self.retry_after = retry_after


_factory: AsyncCircuitBreakerFactory | None = None


def _on_event(name: str, event_type: str, event: Any) -> None:
    if event_type == "circuit_breaker_created":
        BREAKER_STATE.labels(name).set(BreakerState.CLOSED)
    elif event_type == "state_changed":
        state = _STATES.get(event.state, BreakerState.CLOSED)
        BREAKER_STATE.labels(name).set(state)
        log.warning("breaker.state_changed", provider=name, state=event.state)


def _breakers() -> AsyncCircuitBreakerFactory:
    global _factory
    if _factory is None:
        settings = get_settings()
        _factory = AsyncCircuitBreakerFactory(
            default_threshold=settings.breaker_failure_threshold,
            default_ttl=settings.breaker_reset_seconds,
        )
        _factory.add_listener(_on_event)
    return _factory


def reset_breakers() -> None:
    """Forget every breaker (new settings are read on the next call)."""
    global _factory
    _factory = None
    for provider in Provider:
        BREAKER_STATE.labels(provider).set(BreakerState.CLOSED)


@asynccontextmanager
async def breaker(
    provider: Provider, *, outage: Callable[[BaseException], bool]
) -> AsyncIterator[None]:
    """Run the block through `provider`'s breaker. An exception for which `outage` is true
    counts as a failure; any other passes through as a success of the call. Raises
    `CircuitOpenError` instead of running the block while the breaker is open."""
    brk = await _breakers().get_breaker(provider, exclude=[(BaseException, _not(outage))])
    try:
        async with brk:
            yield
    except OpenedState as exc:
        BREAKER_REJECTED.labels(provider).inc()
        raise CircuitOpenError(provider, int(brk.context.ttl) or 1) from exc


def _not(outage: Callable[[BaseException], bool]) -> Callable[[BaseException], bool]:
    return lambda exc: not outage(exc)
