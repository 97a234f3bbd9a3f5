"""Catalogue test fixtures: the demo catalogue loaded, a clean per-app cache, polling helpers."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from elysium.demo import load_demo


@pytest.fixture(autouse=True)
def _fresh_catalog_cache(request: pytest.FixtureRequest) -> None:
    """Tables are truncated between tests without a NOTIFY: start each test with a cold cache."""
    if "app" in request.fixturenames:
        app: FastAPI = request.getfixturevalue("app")
        app.state.catalog_cache.clear()


@pytest.fixture
async def demo(app: FastAPI) -> None:
    """The bundled demo catalogue, committed, and its change notice already delivered.

    Waiting for the NOTIFY of the load keeps it from clearing the cache in the middle of a test.
    """
    cache = app.state.catalog_cache
    before = cache.generation
    async with app.state.sessionmaker() as session, session.begin():
        await load_demo(session)
    for _ in range(100):
        if cache.generation > before:
            break
        await asyncio.sleep(0.05)
    cache.clear()
