"""procrastinate's job queue schema (version pinned by uv.lock)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Upgrading procrastinate later means a new revision that applies its files under
`procrastinate/sql/migrations` between the two versions.
"""

from collections.abc import Sequence

from procrastinate.schema import SchemaManager

from elysium.kit.migrations import execute_script

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    execute_script(SchemaManager.get_schema())


def downgrade() -> None:
    execute_script(
        """
        DROP SCHEMA IF EXISTS procrastinate CASCADE;
        DO $$ DECLARE r record; BEGIN
          FOR r IN SELECT tablename FROM pg_tables
                   WHERE schemaname = 'public' AND tablename LIKE 'procrastinate_%' LOOP
            EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(r.tablename) || ' CASCADE';
          END LOOP;
          FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                   JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate_%' LOOP
            EXECUTE 'DROP FUNCTION IF EXISTS ' || r.sig || ' CASCADE';
          END LOOP;
          FOR r IN SELECT typname FROM pg_type t
                   JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = 'public' AND typname LIKE 'procrastinate_%'
                     AND typtype IN ('e', 'c') LOOP
            EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(r.typname) || ' CASCADE';
          END LOOP;
        END $$;
        """
    )
