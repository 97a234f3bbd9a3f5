"""Bespoke pipeline: a `consultation_booked` step between contacted and quoted.

Revision ID: 0017
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "status IN ('new', 'contacted', 'in_design', 'quoted', 'won', 'lost')"
NEW = "status IN ('new', 'contacted', 'consultation_booked', 'in_design', 'quoted', 'won', 'lost')"


def upgrade() -> None:
    op.alter_column(
        "bespoke_enquiries",
        "status",
        type_=sa.String(length=24),
        existing_type=sa.String(length=16),
        existing_nullable=False,
    )
    op.drop_constraint(op.f("ck_bespoke_enquiries_status_known"), "bespoke_enquiries")
    op.create_check_constraint(op.f("ck_bespoke_enquiries_status_known"), "bespoke_enquiries", NEW)


def downgrade() -> None:
    op.execute(
        "UPDATE bespoke_enquiries SET status = 'in_design' WHERE status = 'consultation_booked'"
    )
    op.drop_constraint(op.f("ck_bespoke_enquiries_status_known"), "bespoke_enquiries")
    op.create_check_constraint(op.f("ck_bespoke_enquiries_status_known"), "bespoke_enquiries", OLD)
    op.alter_column(
        "bespoke_enquiries",
        "status",
        type_=sa.String(length=16),
        existing_type=sa.String(length=24),
        existing_nullable=False,
    )
