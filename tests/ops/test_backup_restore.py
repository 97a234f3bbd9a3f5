"""`elysium backup` and `elysium restore`: a fresh database gets every order, payment, ledger
row and audit row back; a database that holds anything is refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.engine import make_url

from elysium.db import libpq_url
from factories import placed_order, shopper, stocked_piece
from live_server import run_elysium

pytestmark = pytest.mark.slow  # the real command, pg_dump and pg_restore

TABLES = ("orders", "payments", "stock_movements", "audit_events", "users")


def _ids(url: str, table: str) -> list[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        key = "id" if table != "stock_movements" else "*"
        rows = conn.execute(f"SELECT {key} FROM {table} ORDER BY 1").fetchall()
    return [repr(row) for row in rows]


def _archives(folder: Path) -> list[Path]:
    return list(folder.glob("elysium-*.dump"))


def _manifest_text(archive: Path) -> str:
    return archive.with_name(archive.name + ".json").read_text()


def _append_byte(archive: Path) -> None:
    archive.write_bytes(archive.read_bytes() + b"x")


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    name = f"elysium_restore_{uuid.uuid4().hex[:8]}"
    admin = libpq_url(make_url(database_url).set(database="postgres").render_as_string(False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_backup_restores_into_a_fresh_database(
    app: FastAPI,
    client: AsyncClient,
    database_url: str,
    fresh_database: str,
    tmp_path: Path,
) -> None:
    piece = await stocked_piece(app, level=5)
    for _ in range(3):
        who = await shopper(app, client, piece)
        order = await placed_order(client, who)
    cancelled = await client.post(f"/api/orders/{order['id']}/cancel", headers=who.headers)
    assert cancelled.status_code == 200, cancelled.text  # and the audit log records it
    before = {table: _ids(database_url, table) for table in TABLES}
    assert all(before.values()), before

    code, out, err = await run_elysium(database_url, "backup", "--dir", str(tmp_path))
    assert code == 0, err
    archives = _archives(tmp_path)
    assert len(archives) == 1
    manifest = json.loads(_manifest_text(archives[0]))
    assert manifest["alembic_revision"]
    assert manifest["row_counts"]["orders"] == 3
    assert len(manifest["sha256"]) == 64

    code, out, err = await run_elysium(fresh_database, "restore", str(archives[0]))
    assert code == 0, err
    assert "row counts match" in out
    assert {table: _ids(fresh_database, table) for table in TABLES} == before

    again, _, err = await run_elysium(fresh_database, "restore", str(archives[0]))
    assert again == 1
    assert "not empty" in err


async def test_restore_refuses_a_tampered_archive(database_url: str, tmp_path: Path) -> None:
    code, _, err = await run_elysium(database_url, "backup", "--dir", str(tmp_path))
    assert code == 0, err
    archive = _archives(tmp_path)[0]
    _append_byte(archive)
    code, _, err = await run_elysium(database_url, "restore", str(archive))
    assert code == 1
    assert "checksum" in err
