"""One Settings object for the whole service; nothing else reads the environment."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-in-production"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Settings(BaseSettings):
    """Every setting ELYSIUM reads, documented one by one in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    environment: Literal["development", "test", "production"] = "development"
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON lines except in development (console)
    access_log: bool = True

    host: str = "127.0.0.1"
    port: int = 8000
    web_concurrency: int = 2
    web_timeout_seconds: int = Field(default=60, ge=1)
    web_graceful_timeout_seconds: int = Field(default=20, ge=1)
    # Longer than a load balancer's idle timeout (nginx 75 s upstream default, AWS ALB 60 s):
    # a backend that closes first races the balancer's next request on that connection (502).
    # With 5 s, shoppers who paused 5 s between pages opened a new connection each time
    # (bench/README.md: 2,500 shoppers, p95 1,072 -> 216 ms).
    web_keepalive_seconds: int = Field(default=75, ge=0)
    web_max_requests: int = Field(default=0, ge=0)
    web_backlog: int = Field(default=2048, ge=1)
    data_dir: Path = Path(".elysium")
    public_base_url: str = "http://127.0.0.1:8000"

    database_url: str | None = None
    # the primary without a pooler in between: LISTEN/NOTIFY (catalogue cache, job queue)
    database_direct_url: str | None = None
    # optional streaming replica for anonymous catalogue reads, trending and staff reports
    database_replica_url: str | None = None
    replica_max_lag_seconds: float = Field(default=5.0, gt=0)
    replica_check_seconds: float = Field(default=1.0, gt=0, le=60)
    # DATABASE_URL points at PgBouncer in transaction pooling mode: no prepared-statement cache,
    # no session state (timeouts are set per transaction instead of per connection)
    db_pgbouncer: bool = False
    # 20 kept connections, no overflow: an overflow connection is closed when it comes back, so
    # under steady load above the pool size every request paid a new connection (measured).
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)  # 0: no limit
    db_lock_timeout_ms: int = Field(default=5_000, ge=0)
    db_idle_in_transaction_timeout_ms: int = Field(default=60_000, ge=0)
    db_busy_retry_after_seconds: int = Field(default=2, ge=1, le=60)
    db_pool_pre_ping: bool = True
    # A pooled connection is pinged before use only after this long unused: a ping is three
    # round trips, and one that has just been used is very likely alive (if not, its request
    # gets a 503 and the whole pool is replaced). 0 pings at every checkout.
    db_ping_after_idle_seconds: float = Field(default=1.0, ge=0, le=3600)
    db_unavailable_retry_after: int = Field(default=2, ge=1, le=300)
    redis_url: str | None = None
    backup_dir: Path = Path(".elysium/backups")
    pg_bin_dir: Path | None = None

    max_request_bytes: int = 1_048_576
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The storefront's origins: CORS allows them (with credentials), and cookie-signed-in writes
    # must come from one of them or from PUBLIC_BASE_URL.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cookie_secure: bool = True
    session_cookie_name: str = "elysium_session"
    # The back office's own cookie: scoped to /admin, SameSite=Strict.
    staff_cookie_name: str = "elysium_staff"
    session_ttl_hours: int = 24 * 14
    staff_require_2fa: bool | None = None  # None: required in production only

    login_max_failures_per_account: int = 10
    login_max_failures_per_ip: int = 50
    login_failure_window_seconds: int = 15 * 60
    anonymous_writes_per_minute: int = 120
    account_writes_per_minute: int = 120
    coupon_attempts_per_hour: int = 30
    coupon_attempts_per_cart: int = 10
    enquiries_per_hour: int = 10
    account_requests_per_hour: int = 20
    acknowledgements_per_address_per_day: int = 3
    password_reset_ttl_minutes: int = Field(default=60, ge=5, le=24 * 60)
    password_resets_per_email_per_hour: int = Field(default=5, ge=1)
    password_resets_per_ip_per_hour: int = Field(default=30, ge=1)
    email_verification_ttl_hours: int = Field(default=48, ge=1, le=24 * 30)
    verification_emails_per_hour: int = Field(default=5, ge=1)

    # Sign in with Google (OpenID Connect): off unless both are set.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"

    payment_provider: Literal["bank_transfer", "stripe"] = "bank_transfer"
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    bank_account_name: str = "Elysium Jewellery Ltd"
    bank_sort_code: str = "04-00-04"
    bank_account_number: str = "12345678"
    bank_iban: str = "GB33BUKB20201555555555"
    bank_bic: str = "BUKBGB22"
    bank_name: str = "Barclays Bank"
    card_reservation_minutes: int = 30
    bank_transfer_reservation_hours: int = 72
    staff_hold_days: int = Field(default=7, ge=1, le=365)
    shipping_international_pence: int = 9500
    seller_name: str = "Elysium Jewellery Ltd"
    seller_address: str = "1 Bond Street, London W1S 1AA, United Kingdom"
    seller_vat_number: str = "GB123456789"
    return_window_days: int = Field(default=14, ge=14, le=365)
    quote_link_base_url: str | None = None

    breaker_failure_threshold: int = Field(default=5, ge=1, le=1000)
    breaker_reset_seconds: int = Field(default=30, ge=1, le=3600)

    metrics_token: SecretStr | None = None
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None

    sanity_project_id: str | None = None
    sanity_dataset: str = "production"
    sanity_api_version: str = "2025-02-19"
    sanity_token: SecretStr | None = None
    sanity_api_base: str | None = None
    sanity_webhook_secret: SecretStr | None = None

    email_backend: Literal["outbox", "smtp", "resend"] = "outbox"
    email_outbox_dir: Path = Path(".elysium/outbox")
    email_from: str = "ELYSIUM <atelier@elysium.example>"
    staff_email: str = "atelier@elysium.example"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    resend_api_key: SecretStr | None = None
    resend_api_base: str = "https://api.resend.com"
    plausible_domain: str | None = None
    plausible_api_base: str = "https://plausible.io"

    job_max_attempts: int = 8
    worker_concurrency: int = Field(default=4, ge=1, le=100)
    worker_shutdown_seconds: float = Field(default=30.0, ge=0)
    worker_reconnect_max_seconds: float = Field(default=30.0, ge=1)
    worker_metrics_port: int | None = None
    job_retry_base_seconds: float = 2.0
    job_retry_max_seconds: float = 3600.0
    job_retention_days: int = 30
    session_retention_days: int = 30
    idempotency_key_ttl_days: int = Field(default=30, ge=1, le=3650)
    email_retention_days: int = 365
    notification_retention_days: int = 365
    # at least the trending window (7 days), so purging never changes the trending list
    product_view_retention_days: int = Field(default=180, ge=7, le=3650)

    atelier_timezone: str = "Europe/London"
    atelier_open_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [2, 3, 4, 5, 6]  # ISO weekdays: Tuesday to Saturday
    )
    atelier_opens_at: time = time(10, 0)
    atelier_closes_at: time = time(18, 0)
    atelier_address: str = "ELYSIUM Atelier, 14 Albemarle Street, London W1S 4HW"
    consultation_slot_minutes: int = Field(default=60, ge=15, le=240)
    consultation_booking_days: int = Field(default=90, ge=1, le=365)
    consultation_max_upcoming: int = Field(default=3, ge=1, le=50)
    atelier_holiday_country: str = "GB"
    atelier_holiday_subdivision: str | None = "ENG"
    consent_text_version: str = Field(default="2026-12-01", min_length=1, max_length=32)
    cart_reminder_after_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    trending_cache_seconds: float = Field(default=30.0, ge=0, le=60)
    # product views are buffered per process and written in one INSERT at this interval:
    # a crash loses at most this much of the views
    view_flush_seconds: float = Field(default=0.2, gt=0, le=1.0)
    view_buffer_max: int = Field(default=2_000, ge=1)

    @field_validator("trusted_proxies", "cors_origins", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("atelier_open_days", mode="before")
    @classmethod
    def _parse_weekdays(cls, value: object) -> object:
        """`Tue,Wed,Thu` (or ISO numbers `2,3,4`) to ISO weekday numbers."""
        if not isinstance(value, str):
            return value
        days = [part.strip().lower()[:3] for part in value.split(",") if part.strip()]
        return [WEEKDAYS.index(day) + 1 if day in WEEKDAYS else day for day in days]

    @field_validator("atelier_open_days")
    @classmethod
    def _known_weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= day <= 7 for day in value):
            raise ValueError("ATELIER_OPEN_DAYS needs weekdays such as Tue,Wed,Thu,Fri,Sat")
        return sorted(set(value))

    @model_validator(mode="after")
    def _known_holiday_calendar(self) -> Settings:
        try:
            holidays.country_holidays(
                self.atelier_holiday_country, subdiv=self.atelier_holiday_subdivision or None
            )
        except NotImplementedError as exc:
            raise ValueError(
                "ATELIER_HOLIDAY_COUNTRY / ATELIER_HOLIDAY_SUBDIVISION are not a calendar the "
                f"holidays package knows: {exc}"
            ) from exc
        return self

    @field_validator("atelier_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"ATELIER_TIMEZONE {value!r} is not an IANA time zone") from exc
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "production":
            if self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
                raise ValueError("SECRET_KEY must be set to a real secret in production")
            if self.database_url is None:
                raise ValueError("DATABASE_URL must be set in production")
        if self.atelier_opens_at >= self.atelier_closes_at:
            raise ValueError("ATELIER_OPENS_AT must be before ATELIER_CLOSES_AT")
        if self.log_json is None:
            self.log_json = self.environment != "development"
        if self.staff_require_2fa is None:
            self.staff_require_2fa = self.environment == "production"
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and `.env`."""
    return Settings()
