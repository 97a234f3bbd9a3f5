"""Request dependencies on what the running app holds: its settings and its rate limiter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from elysium.config import Settings
from elysium.kit.ratelimit import RateLimiter


async def get_app_settings(request: Request) -> Settings:
    """The settings the running app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_rate_limiter(request: Request) -> RateLimiter:
    """The app's shared rate limiter (PostgreSQL or Redis)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
