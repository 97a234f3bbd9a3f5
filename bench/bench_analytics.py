"""Product views: tracking, recently viewed and trending at 64 concurrent clients, 2 workers.

Guests' track-view passes the anonymous-write rate limiter: in Redis when one answers on
127.0.0.1:6379 (as a deployment with several processes has), else in PostgreSQL. Views are
written in batches (VIEW_FLUSH_SECONDS), so a track-view costs no database round trip.

The demo catalogue plus `SEEDED_VIEWS` views spread over the last 14 days (half inside the
trending window) are loaded first. Trending is measured twice: from the per-process cache
(`TRENDING_CACHE_SECONDS=30`, the default) and computed on every request (`=0`), which is
the figure that justified the cache.
"""

from __future__ import annotations

import asyncio
import json

import psycopg
from harness import Req, Result, load_requests, redis_env, running_server, save, scratch_database

from elysium.db import libpq_url
from elysium.demo import load_demo_into

CONCURRENCY = 64
SEEDED_VIEWS = 500_000
SESSIONS = 2_000

SEED_SQL = """
WITH ids AS (SELECT array_agg(id ORDER BY slug) AS a, count(*) AS n FROM products)
INSERT INTO product_views (product_id, session_id, viewed_at)
SELECT ids.a[1 + floor(power(random(), 3) * ids.n)::int],
       'bench-session-' || (random() * %(sessions)s)::int,
       now() - random() * interval '14 days'
FROM ids, generate_series(1, %(views)s)
"""


def _seed_views(database_url: str) -> list[str]:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(SEED_SQL, {"views": SEEDED_VIEWS, "sessions": SESSIONS})
        conn.execute("VACUUM ANALYZE product_views")
        return [row[0] for row in conn.execute("SELECT slug FROM products ORDER BY slug")]


async def _run(base_url: str, slugs: list[str], cached: bool) -> list[Result]:
    tracks = [
        Req(
            "POST",
            "/api/analytics/track-view",
            body=json.dumps(
                {"product_slug": slugs[i % len(slugs)], "session_id": f"bench-session-{i}"}
            ),
        )
        for i in range(500)
    ]
    recents = [
        Req("GET", f"/api/analytics/recently-viewed?session_id=bench-session-{i}")
        for i in range(500)
    ]
    trending = [Req("GET", "/api/analytics/trending")]
    if not cached:
        return [await load_requests("trending (computed each time)", base_url, trending, 16)]
    return [
        await load_requests("track a view (guest)", base_url, tracks, CONCURRENCY),
        await load_requests("recently viewed (guest)", base_url, recents, CONCURRENCY),
        await load_requests("trending (30 s cache)", base_url, trending, CONCURRENCY),
    ]


def main() -> None:
    results: list[Result] = []
    with scratch_database() as url:
        asyncio.run(load_demo_into(url, only_if_empty=False))
        slugs = _seed_views(url)
        for ttl in ("30", "0"):
            env = {"TRENDING_CACHE_SECONDS": ttl} | redis_env()
            with running_server(url, workers=2, env=env) as server:
                results += asyncio.run(_run(server.base_url, slugs, cached=ttl != "0"))
    save(results, "analytics")


if __name__ == "__main__":
    main()
