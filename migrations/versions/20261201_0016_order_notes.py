"""order notes: internal staff notes on an order

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-01 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "length(body) BETWEEN 1 AND 2000", name=op.f("ck_order_notes_body_length")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_notes_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_order_notes_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_notes")),
    )
    op.create_index("ix_order_notes_order_id_created_at", "order_notes", ["order_id", "created_at"])
    op.create_index(op.f("ix_order_notes_author_id"), "order_notes", ["author_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_order_notes_author_id"), table_name="order_notes")
    op.drop_index("ix_order_notes_order_id_created_at", table_name="order_notes")
    op.drop_table("order_notes")
