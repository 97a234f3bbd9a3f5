"""Fixtures shared by the Stripe tests."""

from __future__ import annotations

from stripe_fixtures import gateway, peer, receiver

__all__ = ["gateway", "peer", "receiver"]
