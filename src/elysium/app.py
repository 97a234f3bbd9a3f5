"""create_app(): routers, middleware, error handlers and the lifespan that owns the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from elysium.accounts.routes import router as accounts_router
from elysium.admin.routes import router as admin_router
from elysium.analytics.buffer import install_view_buffer
from elysium.analytics.routes import router as analytics_router
from elysium.background.routes import router as jobs_admin_router
from elysium.bespoke.routes import router as bespoke_router
from elysium.cart.routes import router as cart_router
from elysium.catalog.cache import install_catalog_cache
from elysium.catalog.routes import router as catalog_router
from elysium.checkout.routes import router as checkout_router
from elysium.config import Settings, get_settings
from elysium.consultations.routes import router as consultations_router
from elysium.db import (
    create_engine,
    create_read_replica,
    create_sessionmaker,
    resolve_database_url,
)
from elysium.engagement.routes import router as wishlist_router
from elysium.errors import install_error_handlers
from elysium.health.routes import router as health_router
from elysium.inventory.routes import router as inventory_router
from elysium.kit.logging import configure_logging
from elysium.kit.middleware import RequestContextMiddleware
from elysium.kit.ratelimit import PostgresRateLimiter, RateLimiter, RedisRateLimiter
from elysium.notifications.routes import router as notifications_router
from elysium.orders.routes import router as orders_router
from elysium.privacy.routes import router as privacy_router
from elysium.promotions.routes import router as coupons_router
from elysium.reviews.routes import router as reviews_router

DESCRIPTION = """The backend of ELYSIUM, a London jewellery house: accounts, catalogue synced
from Sanity, server-side pricing, inventory, cart, checkout and payments.
Errors are RFC 9457 problem details; money is `{"amount": "4500.00", "currency": "GBP"}`."""


def _rate_limiter(settings: Settings, app: FastAPI) -> RateLimiter:
    if settings.redis_url:
        return RedisRateLimiter(settings.redis_url)
    return PostgresRateLimiter(app.state.engine)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.engine = create_engine(settings, app.state.database_url)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    app.state.rate_limiter = _rate_limiter(settings, app)
    app.state.read_replica = create_read_replica(settings, app.state.engine)
    if app.state.read_replica is not None:
        await app.state.read_replica.start()
    for hook in app.state.startup_hooks:
        await hook(app)
    try:
        yield
    finally:
        for hook in app.state.shutdown_hooks:
            await hook(app)
        if app.state.read_replica is not None:
            await app.state.read_replica.stop()
        await app.state.engine.dispose()


def create_app(settings: Settings | None = None, database_url: str | None = None) -> FastAPI:
    """Build the ASGI application."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(
        title="ELYSIUM Commerce API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.database_url = database_url or resolve_database_url(settings)
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    install_error_handlers(app)
    install_catalog_cache(app)
    install_view_buffer(app)
    for router in (
        health_router,
        accounts_router,
        privacy_router,
        admin_router,
        catalog_router,
        inventory_router,
        notifications_router,
        jobs_admin_router,
        cart_router,
        wishlist_router,
        coupons_router,
        checkout_router,
        orders_router,
        analytics_router,
        bespoke_router,
        reviews_router,
        consultations_router,
    ):
        app.include_router(router)
    app.add_middleware(
        RequestContextMiddleware,
        max_body=settings.max_request_bytes,
        trusted_proxies=settings.trusted_proxies,
        access_log=settings.access_log,
    )
    return app
