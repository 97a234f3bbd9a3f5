"""A real streaming replica (a base backup of a throwaway cluster and a hot standby on another
port): anonymous catalogue reads and trending go to it while it keeps up; a customer's own data
comes from the primary; a replica too far behind, or down, sends the reads to the primary."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from elysium.app import create_app
from elysium.config import Settings
from elysium.db import ReadReplica, async_url
from elysium.migrate import upgrade_to_head
from factories import create_product, make_account
from pg_cluster import Cluster, primary_and_standby

pytestmark = pytest.mark.slow  # two clusters started, migrated and replicated (5-15 s)


def _replicated(primary: Cluster, standby: Cluster) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    [(target,)] = primary.query("SELECT pg_current_wal_insert_lsn()::text")
    deadline = time.monotonic() + 30
    while True:
        [(done,)] = standby.query(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
        if done:
            return
        assert time.monotonic() < deadline, "the standby did not catch up"
        time.sleep(0.05)


async def _slugs(http: AsyncClient) -> set[str]:
    response = await http.get("/api/products?limit=50")
    assert response.status_code == 200, response.text
    return {item["slug"] for item in response.json()["items"]}


async def test_reads_follow_the_replica_while_it_keeps_up(settings: Settings) -> None:
    with primary_and_standby() as (primary, standby):
        primary.query("CREATE DATABASE elysium")
        await asyncio.to_thread(upgrade_to_head, primary.url("elysium"))
        configured = settings.model_copy(
            update={
                "database_url": async_url(primary.url("elysium")),
                "database_replica_url": standby.url("elysium"),
                "replica_max_lag_seconds": 60.0,
                "replica_check_seconds": 30.0,  # the test calls check() itself
            }
        )
        app = create_app(configured, async_url(primary.url("elysium")))
        async with LifespanManager(app):
            replica: ReadReplica = app.state.read_replica
            http = AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver")
            first = await create_product(app)
            _replicated(primary, standby)
            assert await replica.check() is True, replica.last_error
            assert replica.lag == 0.0

            standby.query("SELECT pg_wal_replay_pause()")
            second = await create_product(app)  # on the primary, not replayed on the standby
            app.state.catalog_cache.clear()
            assert await replica.check() is True  # behind, but within the 60 s bound
            assert replica.lag is not None
            assert replica.lag > 0
            assert await _slugs(http) == {first.slug}  # read from the replica
            assert (await http.get(f"/api/products/{second.slug}")).status_code == 404

            customer = await make_account(app)  # a customer's own data: from the primary
            viewed = await http.post(
                "/api/analytics/track-view",
                json={"product_slug": second.slug},
                headers=customer.headers,
            )
            assert viewed.status_code == 202
            await app.state.view_buffer.flush()
            mine = await http.get("/api/analytics/recently-viewed", headers=customer.headers)
            assert [i["product_slug"] for i in mine.json()["items"]] == [second.slug]
            profile = await http.get("/api/user/profile", headers=customer.headers)
            assert profile.status_code == 200, profile.text  # the new account: primary
            trending = await http.get("/api/analytics/trending")
            assert trending.json()["items"] == []  # the view is not on the replica yet

            replica.max_lag = 0.001  # now the same lag is too much: the primary answers
            await asyncio.sleep(0.01)
            assert await replica.check() is False
            app.state.catalog_cache.clear()
            assert await _slugs(http) == {first.slug, second.slug}
            assert (await http.get(f"/api/products/{second.slug}")).status_code == 200

            replica.max_lag = 60.0
            standby.query("SELECT pg_wal_replay_resume()")
            _replicated(primary, standby)
            assert await replica.check() is True
            app.state.catalog_cache.clear()
            assert await _slugs(http) == {first.slug, second.slug}

            standby.stop()  # the replica goes away: reads fall back, nothing fails
            assert await replica.check() is False
            app.state.catalog_cache.clear()
            assert await _slugs(http) == {first.slug, second.slug}
            trending = await http.get("/api/analytics/trending")
            assert trending.status_code == 200
            await http.aclose()
