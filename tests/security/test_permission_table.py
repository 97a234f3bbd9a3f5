"""The one permission table covers every operation, and each route enforces what it says."""

from __future__ import annotations

import re

from fastapi import FastAPI

from elysium.accounts.permissions import PERMISSIONS, Access
from security_helpers import operations

NO_SIGN_IN = {Access.ANYONE, Access.PROVIDER, Access.OPERATIONS}


def test_every_operation_is_in_the_table(app: FastAPI) -> None:
    missing = sorted({op.key for op in operations(app)} - PERMISSIONS.keys())
    assert not missing, (
        "operations missing from elysium.accounts.permissions.PERMISSIONS (add one line "
        f"each): {missing}"
    )


def test_no_entry_names_an_operation_that_does_not_exist(app: FastAPI) -> None:
    stale = sorted(PERMISSIONS.keys() - {op.key for op in operations(app)})
    assert not stale, f"PERMISSIONS lists operations the app does not serve: {stale}"


def test_each_route_enforces_its_entry(app: FastAPI) -> None:
    wrong = []
    for op in operations(app):
        listed = PERMISSIONS.get(op.key)
        if listed is None:
            continue
        expected = None if listed in NO_SIGN_IN else listed
        if op.enforced != expected:
            wrong.append(f"{op.key}: table says {listed}, dependencies enforce {op.enforced}")
    assert not wrong, "\n".join(wrong)


def test_every_documented_operation_is_walked(app: FastAPI) -> None:
    documented = {
        f"{method.upper()} {path}" for path, ops in app.openapi()["paths"].items() for method in ops
    }
    listed = {re.sub(r":\w+}", "}", key) for key in PERMISSIONS}  # {variant_key:path}
    assert documented <= listed, sorted(documented - listed)
