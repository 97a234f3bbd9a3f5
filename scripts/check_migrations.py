"""`alembic check` on a scratch database: models and migrations must not drift.

Also proves the history runs down to nothing and back up again.
"""

from __future__ import annotations

import sys

from alembic import command

from elysium.migrate import alembic_config, upgrade_to_head
from elysium.scratch_db import scratch_database


def main() -> int:
    with scratch_database("elysium_check") as url:
        upgrade_to_head(url)
        command.check(alembic_config(url))
        command.downgrade(alembic_config(url), "base")
        upgrade_to_head(url)
    sys.stdout.write("migrations: upgrade, check, downgrade and re-upgrade OK\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
