"""Alembic, driven from code so every command migrates the same database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent


def bundled(relative: str) -> Path:
    """A file the package needs at run time: inside the installed wheel (the build copies
    `alembic.ini`, `migrations/` and `data/demo/` into the package), else in the checkout."""
    inside = PACKAGE_DIR / relative
    return inside if inside.exists() else PROJECT_ROOT / relative


def alembic_config(database_url: str | None = None) -> Config:
    """The project's alembic.ini, pointed at `database_url` when given."""
    config = Config(str(bundled("alembic.ini")))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str | None = None) -> None:
    """Apply every migration not yet applied."""
    command.upgrade(alembic_config(database_url), "head")
