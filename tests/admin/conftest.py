"""Fixtures of the back-office HTTP tests: clients signed in to /admin as staff or admin."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from back_office import signed_in
from factories import Account


@pytest.fixture
async def staff_client(app: FastAPI, staff: Account) -> AsyncIterator[AsyncClient]:
    http = await signed_in(app, staff)
    yield http
    await http.aclose()


@pytest.fixture
async def admin_client(app: FastAPI, admin: Account) -> AsyncIterator[AsyncClient]:
    http = await signed_in(app, admin)
    yield http
    await http.aclose()
