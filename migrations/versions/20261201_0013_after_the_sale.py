"""after the sale: export VAT, invoices and credit notes, returns, bespoke quotes, gift messages

Orders record their VAT treatment and rate (existing orders are all `standard` at 20 %), an
invoice number once paid, a gift message and, for bespoke commissions, the deposit due first
(`payment_status` gains `deposit_paid`). Credit notes, yearly document counters, returns and
quotes are new tables; queued emails can carry attachments. Vocabularies are frozen here.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-01 19:15:27.546925
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENT_STATUSES_BEFORE = ("unpaid", "paid", "partially_refunded", "refunded", "failed")
PAYMENT_STATUSES_AFTER = (
    "unpaid",
    "deposit_paid",
    "paid",
    "partially_refunded",
    "refunded",
    "failed",
)


def _payment_statuses(values: tuple[str, ...]) -> None:
    name = op.f("ck_orders_payment_status_known")
    op.drop_constraint(name, "orders", type_="check")
    op.create_check_constraint(
        name, "orders", f"payment_status IN ({', '.join(repr(v) for v in values)})"
    )


def upgrade() -> None:
    op.create_table(
        "document_counters",
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "last_number > 0", name=op.f("ck_document_counters_last_number_positive")
        ),
        sa.PrimaryKeyConstraint("prefix", "year", name=op.f("pk_document_counters")),
    )
    op.create_table(
        "bespoke_quotes",
        sa.Column("enquiry_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_pence", sa.Integer(), nullable=False),
        sa.Column("deposit_percent", sa.SmallInteger(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('sent', 'accepted', 'superseded')",
            name=op.f("ck_bespoke_quotes_status_known"),
        ),
        sa.CheckConstraint(
            "deposit_percent BETWEEN 1 AND 100",
            name=op.f("ck_bespoke_quotes_deposit_percent_range"),
        ),
        sa.CheckConstraint("price_pence > 0", name=op.f("ck_bespoke_quotes_price_positive")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_bespoke_quotes_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enquiry_id"],
            ["bespoke_enquiries.id"],
            name=op.f("fk_bespoke_quotes_enquiry_id_bespoke_enquiries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_bespoke_quotes_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bespoke_quotes")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_bespoke_quotes_token_hash")),
    )
    op.create_index(
        op.f("ix_bespoke_quotes_enquiry_id"), "bespoke_quotes", ["enquiry_id"], unique=False
    )
    op.create_table(
        "credit_notes",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("refund_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_number", sa.String(length=20), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("vat_pence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_credit_notes_amount_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_credit_notes_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_credit_notes_refund_id_refunds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_notes_number")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_credit_notes_refund_id")),
    )
    op.create_index(op.f("ix_credit_notes_order_id"), "credit_notes", ["order_id"], unique=False)
    op.create_table(
        "order_returns",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("restocked", sa.Boolean(), nullable=True),
        sa.Column("refund_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'authorised', 'received', 'refunded', 'rejected')",
            name=op.f("ck_order_returns_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_returns_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_order_returns_refund_id_refunds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_returns")),
    )
    op.create_index(
        "ix_order_returns_order_id_created_at",
        "order_returns",
        ["order_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "order_return_lines",
        sa.Column("return_id", sa.Uuid(), nullable=False),
        sa.Column("order_item_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_return_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_item_id"],
            ["order_items.id"],
            name=op.f("fk_order_return_lines_order_item_id_order_items"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["order_returns.id"],
            name=op.f("fk_order_return_lines_return_id_order_returns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_return_lines")),
        sa.UniqueConstraint(
            "return_id", "order_item_id", name=op.f("uq_order_return_lines_return_id")
        ),
    )
    op.create_index(
        op.f("ix_order_return_lines_return_id"), "order_return_lines", ["return_id"], unique=False
    )
    op.add_column(
        "orders",
        sa.Column("vat_treatment", sa.String(length=24), nullable=False, server_default="standard"),
    )
    op.add_column(
        "orders",
        sa.Column("vat_rate_percent", sa.SmallInteger(), nullable=False, server_default="20"),
    )
    op.add_column("orders", sa.Column("gift_message", sa.String(length=300), nullable=True))
    op.add_column("orders", sa.Column("invoice_number", sa.String(length=20), nullable=True))
    op.add_column("orders", sa.Column("invoiced_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("orders", sa.Column("deposit_pence", sa.Integer(), nullable=True))
    op.alter_column("orders", "vat_treatment", server_default=None)
    op.alter_column("orders", "vat_rate_percent", server_default=None)
    op.create_unique_constraint(op.f("uq_orders_invoice_number"), "orders", ["invoice_number"])
    op.create_check_constraint(
        op.f("ck_orders_vat_treatment_known"),
        "orders",
        "vat_treatment IN ('standard', 'zero_rated_export')",
    )
    op.create_check_constraint(
        op.f("ck_orders_deposit_within_total"),
        "orders",
        "deposit_pence IS NULL OR (deposit_pence > 0 AND deposit_pence <= total_pence)",
    )
    _payment_statuses(PAYMENT_STATUSES_AFTER)
    op.add_column(
        "sent_emails",
        sa.Column("attachments", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    _payment_statuses(PAYMENT_STATUSES_BEFORE)
    op.drop_constraint(op.f("ck_orders_deposit_within_total"), "orders", type_="check")
    op.drop_constraint(op.f("ck_orders_vat_treatment_known"), "orders", type_="check")
    op.drop_column("sent_emails", "attachments")
    op.drop_constraint(op.f("uq_orders_invoice_number"), "orders", type_="unique")
    op.drop_column("orders", "deposit_pence")
    op.drop_column("orders", "invoiced_at")
    op.drop_column("orders", "invoice_number")
    op.drop_column("orders", "gift_message")
    op.drop_column("orders", "vat_rate_percent")
    op.drop_column("orders", "vat_treatment")
    op.drop_index(op.f("ix_order_return_lines_return_id"), table_name="order_return_lines")
    op.drop_table("order_return_lines")
    op.drop_index("ix_order_returns_order_id_created_at", table_name="order_returns")
    op.drop_table("order_returns")
    op.drop_index(op.f("ix_credit_notes_order_id"), table_name="credit_notes")
    op.drop_table("credit_notes")
    op.drop_index(op.f("ix_bespoke_quotes_enquiry_id"), table_name="bespoke_quotes")
    op.drop_table("bespoke_quotes")
    op.drop_table("document_counters")
