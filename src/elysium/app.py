"""create_app(): routers, middleware, error handlers and the lifespan that owns the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from elysium.accounts.routes import router as accounts_router
from elysium.accounts.service import SignedInCallers
from elysium.admin.api import router as admin_api_router
from elysium.admin.audit import router as admin_audit_router
from elysium.admin.calendar import router as admin_calendar_router
from elysium.admin.coupons import router as admin_coupons_router
from elysium.admin.customers import router as admin_customers_router
from elysium.admin.dashboard import router as admin_dashboard_router
from elysium.admin.inventory import router as admin_inventory_router
from elysium.admin.jobs import router as admin_jobs_router
from elysium.admin.moderation import router as admin_moderation_router
from elysium.admin.orders import router as admin_orders_router
from elysium.admin.reports import router as admin_reports_router
from elysium.admin.routes import error_page as admin_error_page
from elysium.admin.routes import router as admin_router
from elysium.admin.security import AdminSecurityMiddleware
from elysium.admin.templating import STATIC_DIR as ADMIN_STATIC_DIR
from elysium.admin.two_factor import router as admin_two_factor_router
from elysium.analytics.buffer import install_view_buffer
from elysium.analytics.recent import install_recent_views
from elysium.analytics.routes import router as analytics_router
from elysium.apidocs import install_api_docs
from elysium.audit.routes import router as audit_router
from elysium.background.routes import router as jobs_admin_router
from elysium.bespoke.routes import router as bespoke_router
from elysium.cart.pricing import install_cart_reads
from elysium.cart.routes import router as cart_router
from elysium.catalog.cache import install_catalog_cache
from elysium.catalog.routes import router as catalog_router
from elysium.checkout.routes import router as checkout_router
from elysium.config import Settings, get_settings
from elysium.consultations.routes import router as consultations_router
from elysium.db import (
    autocommit_engine,
    create_engine,
    create_read_replica,
    create_sessionmaker,
    resolve_database_url,
)
from elysium.engagement.routes import router as wishlist_router
from elysium.errors import install_error_handlers
from elysium.health.routes import router as health_router
from elysium.inventory.routes import router as inventory_router
from elysium.kit.cache_control import NoStoreMiddleware
from elysium.kit.crossorigin import CrossSiteWriteGuard
from elysium.kit.logging import configure_logging
from elysium.kit.middleware import RequestContextMiddleware
from elysium.kit.ratelimit import PostgresRateLimiter, RateLimiter, RedisRateLimiter
from elysium.notifications.routes import router as notifications_router
from elysium.orders.routes import router as orders_router
from elysium.privacy.routes import router as privacy_router
from elysium.promotions.routes import router as coupons_router
from elysium.reports.routes import router as reports_router
from elysium.reviews.routes import router as reviews_router
from elysium.subscriptions.routes import router as subscriptions_router

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
    app.state.autocommit_engine = autocommit_engine(app.state.engine)
    app.state.signed_in_callers = SignedInCallers(app.state.autocommit_engine)
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
    configure_logging(settings.log_level, bool(settings.log_json))
    app = FastAPI(
        title="ELYSIUM Commerce API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
        docs_url=None,  # served by elysium.apidocs, offline and under a strict CSP
        redoc_url=None,
        # FastAPI's OpenTelemetry hooks: unused here (metrics are Prometheus), and checking
        # whether a provider is configured costs every request a few microseconds.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.database_url = database_url or resolve_database_url(settings)
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    install_error_handlers(app, page=admin_error_page)
    install_api_docs(app)
    install_catalog_cache(app)
    install_view_buffer(app)
    install_recent_views(app)
    install_cart_reads(app)
    for router in (
        analytics_router,
        cart_router,
        catalog_router,
        health_router,
        accounts_router,
        privacy_router,
        # The back office's page modules come before `admin_router` (sign-in).
        admin_orders_router,
        admin_customers_router,
        admin_two_factor_router,
        admin_dashboard_router,
        admin_inventory_router,
        admin_moderation_router,
        admin_calendar_router,
        admin_coupons_router,
        admin_jobs_router,
        admin_audit_router,
        admin_reports_router,
        admin_router,
        admin_api_router,
        inventory_router,
        notifications_router,
        jobs_admin_router,
        wishlist_router,
        coupons_router,
        checkout_router,
        orders_router,
        bespoke_router,
        reviews_router,
        consultations_router,
        subscriptions_router,
        audit_router,
        reports_router,
    ):
        app.include_router(router)
    app.mount("/admin/static", StaticFiles(directory=ADMIN_STATIC_DIR), name="admin-static")
    app.add_middleware(AdminSecurityMiddleware, settings=settings)
    app.add_middleware(
        CrossSiteWriteGuard,
        allowed=[*settings.cors_origins, settings.public_base_url],
        cookie_names=[settings.session_cookie_name],
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Cart-Token"],
        expose_headers=["X-Cart-Token", "Retry-After", "X-Request-Id"],
    )
    app.add_middleware(
        NoStoreMiddleware,
        session_cookies=(settings.session_cookie_name, settings.staff_cookie_name),
    )
    app.add_middleware(
        RequestContextMiddleware,
        max_body=settings.max_request_bytes,
        trusted_proxies=settings.trusted_proxies,
        access_log=settings.access_log,
    )
    return app
