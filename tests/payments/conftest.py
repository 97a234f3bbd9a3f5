"""Fixtures shared by the Stripe tests."""

from __future__ import annotations

import pytest

from peers.localstripe_peer import LocalStripe


@pytest.fixture
def peer() -> LocalStripe:
    """The process-wide localstripe, emptied for this test."""
    server = LocalStripe.shared()
    server.reset()
    return server
