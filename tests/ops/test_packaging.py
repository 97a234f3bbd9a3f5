"""The built wheel carries what the installed service needs to migrate and load the demo, and
an installed copy (the wheel's contents, no checkout) migrates a database by itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest

from elysium.db import libpq_url
from elysium.migrate import PROJECT_ROOT
from elysium.scratch_db import scratch_database

pytestmark = pytest.mark.slow  # builds the wheel


def _uv() -> str:
    found = shutil.which("uv") or str(PROJECT_ROOT / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        pytest.skip("uv is not installed (make install puts it in .tools/bin)")
    return found


def test_the_installed_wheel_migrates_and_has_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run(
        [_uv(), "build", "--wheel", "--out-dir", str(out), str(PROJECT_ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(out.glob("elysium-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    assert "elysium/alembic.ini" in names
    assert "elysium/migrations/env.py" in names
    assert any(n.startswith("elysium/migrations/versions/") for n in names)
    assert "elysium/data/demo/elysium-demo.ndjson" in names
    assert "elysium/data/demo/inventory.csv" in names

    # The unpacked wheel first on the path, run from elsewhere: nothing from the checkout.
    script = (
        "import sys, elysium.migrate as m, elysium.demo as d;"
        "assert m.bundled('alembic.ini').is_relative_to(sys.argv[1]), m.bundled('alembic.ini');"
        "assert d.DEMO_CATALOGUE.is_relative_to(sys.argv[1]), d.DEMO_CATALOGUE;"
        "m.upgrade_to_head(sys.argv[2])"
    )
    site = str(tmp_path / "site")
    with scratch_database("elysium_wheel") as url:
        env = os.environ | {"PYTHONPATH": site}
        done = subprocess.run(
            [sys.executable, "-c", script, site, url],
            env=env, cwd=tmp_path, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        with psycopg.connect(libpq_url(url)) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        assert row is not None
