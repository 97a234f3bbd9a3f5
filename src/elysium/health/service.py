"""Who may read the metrics."""

from __future__ import annotations

from elysium.config import Settings
from elysium.errors import NotFoundError, UnauthorizedError
from elysium.kit.metrics import token_matches


def check_metrics_access(settings: Settings, authorization: str | None) -> None:
    """`/metrics` is not public: the bearer token when `METRICS_TOKEN` is set; in production
    without a token, not served on the public port at all (404)."""
    if settings.metrics_token is not None:
        if not token_matches(authorization, settings.metrics_token.get_secret_value()):
            raise UnauthorizedError("The metrics need the monitoring token.")
        return
    if settings.environment == "production":
        raise NotFoundError("Not found.")
