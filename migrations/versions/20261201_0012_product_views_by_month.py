"""product views partitioned by month; recent_views kept by a trigger

`product_views` becomes a table partitioned by range of `viewed_at`, one partition per calendar
month (UTC) named `product_views_yYYYYmMM`, plus `product_views_default` for a view outside
every partition (a month nobody made ahead yet), so an insert never fails. Retention then drops
whole partitions instead of deleting rows one by one.

`product_views_ensure_partition(month)` makes the month's partition when missing, first moving
that month's rows out of the default partition (PostgreSQL refuses a new partition while the
default one holds rows of its range). The analytics job calls it for the coming months.

`recent_views` holds, per viewer (user or guest session) and product, the last view; the
statement trigger `product_views_keep_recent` upserts it from each INSERT's new rows (one
statement per batch, rows in key order so concurrent batches never deadlock), so "recently
viewed" reads a handful of index entries instead of scanning the viewer's views.

The primary key becomes (id, viewed_at): a partitioned table's keys must hold the partition key.
Existing rows are copied over in one statement.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENSURE_PARTITION = """
CREATE FUNCTION product_views_ensure_partition(month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    lo timestamptz := date_trunc('month', month::timestamp) AT TIME ZONE 'UTC';
    hi timestamptz := (date_trunc('month', month::timestamp) + interval '1 month')
                      AT TIME ZONE 'UTC';
    name text := 'product_views_y' || to_char(month, 'YYYY') || 'm' || to_char(month, 'MM');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    LOCK TABLE product_views_default IN SHARE ROW EXCLUSIVE MODE;
    EXECUTE format('CREATE TABLE %I (LIKE product_views INCLUDING DEFAULTS)', name);
    EXECUTE format(
        'WITH moved AS (DELETE FROM product_views_default'
        ' WHERE viewed_at >= %L AND viewed_at < %L RETURNING *)'
        ' INSERT INTO %I SELECT * FROM moved',
        lo, hi, name);
    EXECUTE format(
        'ALTER TABLE product_views ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
        name, lo, hi);
    RETURN true;
END $$
"""

KEEP_RECENT = """
CREATE FUNCTION product_views_keep_recent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO recent_views (user_id, product_id, viewed_at)
    SELECT user_id, product_id, max(viewed_at) FROM new_views
    WHERE user_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (user_id, product_id) WHERE user_id IS NOT NULL
    DO UPDATE SET viewed_at = greatest(recent_views.viewed_at, excluded.viewed_at);
    INSERT INTO recent_views (session_id, product_id, viewed_at)
    SELECT session_id, product_id, max(viewed_at) FROM new_views
    WHERE user_id IS NULL AND session_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (session_id, product_id) WHERE session_id IS NOT NULL
    DO UPDATE SET viewed_at = greatest(recent_views.viewed_at, excluded.viewed_at);
    RETURN NULL;
END $$
"""

INDEXES = (
    ("ix_product_views_product_id", ["product_id"], None),
    (
        "ix_product_views_session_id_viewed_at",
        ["session_id", "viewed_at"],
        "session_id IS NOT NULL",
    ),
    ("ix_product_views_user_id_viewed_at", ["user_id", "viewed_at"], "user_id IS NOT NULL"),
    ("ix_product_views_viewed_at_product_id", ["viewed_at", "product_id"], None),
)


def _create(partitioned: bool) -> None:
    op.create_table(
        "product_views",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column(
            "viewed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_views_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_product_views_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            *(("id", "viewed_at") if partitioned else ("id",)), name=op.f("pk_product_views")
        ),
        **({"postgresql_partition_by": "RANGE (viewed_at)"} if partitioned else {}),
    )
    for name, columns, where in INDEXES:
        op.create_index(
            name,
            "product_views",
            columns,
            unique=False,
            postgresql_where=None if where is None else sa.text(where),
        )


def _swap(partitioned: bool) -> None:
    op.execute("ALTER TABLE product_views RENAME TO product_views_old")
    op.execute("ALTER TABLE product_views_old RENAME CONSTRAINT pk_product_views TO pk_pv_old")
    op.execute(
        "ALTER TABLE product_views_old RENAME CONSTRAINT fk_product_views_product_id_products"
        " TO fk_pv_old_product"
    )
    op.execute(
        "ALTER TABLE product_views_old RENAME CONSTRAINT fk_product_views_user_id_users"
        " TO fk_pv_old_user"
    )
    for name, _, _ in INDEXES:
        op.execute(f"ALTER INDEX {name} RENAME TO {name.replace('product_views', 'pv_old')}")
    _create(partitioned)


def _copy_and_drop_old() -> None:
    op.execute(
        "INSERT INTO product_views (id, product_id, user_id, session_id, viewed_at)"
        " SELECT id, product_id, user_id, session_id, viewed_at FROM product_views_old"
    )
    op.execute("DROP TABLE product_views_old")
    op.execute(
        "SELECT setval(pg_get_serial_sequence('product_views', 'id'),"
        " coalesce((SELECT max(id) FROM product_views), 0) + 1, false)"
    )


def _create_recent_views() -> None:
    op.create_table(
        "recent_views",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (session_id IS NULL)", name=op.f("ck_recent_views_one_viewer")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_recent_views_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recent_views_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recent_views")),
    )
    for viewer in ("user_id", "session_id"):
        where = sa.text(f"{viewer} IS NOT NULL")
        op.create_index(
            f"uq_recent_views_{viewer}_product_id",
            "recent_views",
            [viewer, "product_id"],
            unique=True,
            postgresql_where=where,
        )
        op.create_index(
            f"ix_recent_views_{viewer}_viewed_at",
            "recent_views",
            [viewer, "viewed_at"],
            unique=False,
            postgresql_where=where,
        )
    op.create_index("ix_recent_views_viewed_at", "recent_views", ["viewed_at"], unique=False)
    op.create_index("ix_recent_views_product_id", "recent_views", ["product_id"], unique=False)


def upgrade() -> None:
    _create_recent_views()
    _swap(partitioned=True)
    op.execute("CREATE TABLE product_views_default PARTITION OF product_views DEFAULT")
    op.execute(ENSURE_PARTITION)
    # a partition for every month that has views, and for this month and the next two
    op.execute(
        "SELECT product_views_ensure_partition(m::date) FROM generate_series("
        " date_trunc('month', least(coalesce((SELECT min(viewed_at) FROM product_views_old),"
        " now()), now()) AT TIME ZONE 'UTC'),"
        " date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months',"
        " interval '1 month') AS m"
    )
    op.execute(KEEP_RECENT)
    op.execute(
        "CREATE TRIGGER product_views_keep_recent AFTER INSERT ON product_views"
        " REFERENCING NEW TABLE AS new_views"
        " FOR EACH STATEMENT EXECUTE FUNCTION product_views_keep_recent()"
    )
    _copy_and_drop_old()  # the trigger fills recent_views from the copied views


def downgrade() -> None:
    op.execute("DROP TRIGGER product_views_keep_recent ON product_views")
    op.execute("DROP FUNCTION product_views_keep_recent()")
    op.drop_table("recent_views")
    _swap(partitioned=False)
    _copy_and_drop_old()
    op.execute("DROP FUNCTION product_views_ensure_partition(date)")
