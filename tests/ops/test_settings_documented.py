"""Every setting is documented in .env.example, and production refuses placeholder secrets."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from elysium.config import Settings
from elysium.migrate import PROJECT_ROOT


def test_every_setting_is_in_env_example() -> None:
    documented = set(
        re.findall(r"^([A-Z][A-Z0-9_]*)=", (PROJECT_ROOT / ".env.example").read_text(), re.M)
    )
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert missing == set()


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production", database_url="postgresql://x/y")


def test_production_requires_two_factor_for_staff_by_default() -> None:
    settings = Settings(
        _env_file=None,
        environment="production",
        database_url="postgresql://x/y",
        secret_key="a-real-secret-of-some-length",
    )
    assert settings.staff_require_2fa is True
