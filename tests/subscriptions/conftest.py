"""Fixtures of the care plan and saved card tests: localstripe and the app on Stripe."""

from __future__ import annotations

from stripe_fixtures import gateway, peer, receiver

__all__ = ["gateway", "peer", "receiver"]
