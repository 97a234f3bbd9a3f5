"""One Settings object for the whole service; nothing else reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-in-production"


class Settings(BaseSettings):
    """Every setting ELYSIUM reads, documented one by one in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    environment: Literal["development", "test", "production"] = "development"
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    log_level: str = "INFO"
    log_json: bool = True
    access_log: bool = True

    host: str = "127.0.0.1"
    port: int = 8000
    web_concurrency: int = 2
    data_dir: Path = Path(".elysium")
    public_base_url: str = "http://127.0.0.1:8000"

    database_url: str | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout: float = 10.0
    redis_url: str | None = None

    max_request_bytes: int = 1_048_576
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cookie_secure: bool = True
    session_cookie_name: str = "elysium_session"
    session_ttl_hours: int = 24 * 14
    staff_require_2fa: bool | None = None  # None: required in production only

    login_max_failures_per_account: int = 10
    login_max_failures_per_ip: int = 50
    login_failure_window_seconds: int = 15 * 60
    anonymous_writes_per_minute: int = 120

    payment_provider: Literal["bank_transfer", "stripe"] = "bank_transfer"
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    bank_account_name: str = "Elysium Jewellery Ltd"
    bank_sort_code: str = "04-00-04"
    bank_account_number: str = "12345678"
    bank_iban: str = "GB33BUKB20201555555555"
    bank_bic: str = "BUKBGB22"
    card_reservation_minutes: int = 30
    bank_transfer_reservation_hours: int = 72
    shipping_international_pence: int = 9500

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
    job_retry_base_seconds: float = 2.0
    job_retry_max_seconds: float = 3600.0
    job_retention_days: int = 30
    session_retention_days: int = 30
    email_retention_days: int = 365
    notification_retention_days: int = 365

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "production":
            if self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
                raise ValueError("SECRET_KEY must be set to a real secret in production")
            if self.database_url is None:
                raise ValueError("DATABASE_URL must be set in production")
        if self.staff_require_2fa is None:
            self.staff_require_2fa = self.environment == "production"
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and `.env`."""
    return Settings()
