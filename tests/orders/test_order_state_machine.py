"""The state machine: every pair of statuses against the table, and a sample through the API."""

from __future__ import annotations

import itertools

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from elysium.errors import IllegalTransitionError
from elysium.models import AuditEvent
from elysium.models.order import OrderStatus
from elysium.orders.state import ALLOWED, CANCELLABLE, can_transition, ensure_transition
from factories import Account, placed_order, shopper, stocked_piece

statuses = st.sampled_from(tuple(OrderStatus))


@pytest.mark.parametrize(
    ("current", "target"), list(itertools.product(tuple(OrderStatus), repeat=2))
)
def test_every_pair_follows_the_table(current: OrderStatus, target: OrderStatus) -> None:
    if target in ALLOWED[current]:
        ensure_transition(current, target)
    else:
        with pytest.raises(IllegalTransitionError) as caught:
            ensure_transition(current, target)
        assert caught.value.status == 409


@given(statuses, statuses)
def test_can_transition_agrees_with_ensure(current: OrderStatus, target: OrderStatus) -> None:
    try:
        ensure_transition(current, target)
        allowed = True
    except IllegalTransitionError:
        allowed = False
    assert allowed == can_transition(current, target)


def test_table_shape() -> None:
    assert set(ALLOWED) == set(OrderStatus)
    assert ALLOWED[OrderStatus.CANCELLED] == ALLOWED[OrderStatus.REFUNDED] == frozenset()
    assert {"PENDING", "PROCESSING", "PAYMENT_FAILED", "PAID"} == CANCELLABLE
    assert all(s not in ALLOWED[s] for s in tuple(OrderStatus))  # no self-loops
    reachable, frontier = {OrderStatus.PENDING}, [OrderStatus.PENDING]
    while frontier:
        for nxt in ALLOWED[frontier.pop()] - reachable:
            reachable.add(nxt)
            frontier.append(nxt)
    assert reachable == set(OrderStatus)


async def test_staff_walk_an_order_to_delivery_and_forbidden_moves_are_409(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who = await shopper(app, client, await stocked_piece(app))
    order = await placed_order(client, who)
    url = f"/api/orders/{order['id']}/status"

    async def put(status: str, **extra: str) -> int:
        response = await client.put(url, json={"status": status} | extra, headers=staff.headers)
        return response.status_code

    assert await put("SHIPPED") == 409
    assert await put("PAID", note="Transfer seen on statement") == 200
    assert await put("PENDING") == 409
    assert await put("FULFILLED") == 200
    assert await put("SHIPPED", carrier="Malca-Amit", tracking_number="MA123") == 200
    assert await put("CANCELLED") == 409
    assert await put("DELIVERED") == 200
    assert await put("PAID") == 409
    got = (await client.get(f"/api/orders/{order['id']}", headers=who.headers)).json()
    assert [h["status"] for h in got["status_history"]] == [
        "PENDING",
        "PAID",
        "FULFILLED",
        "SHIPPED",
        "DELIVERED",
    ]
    assert got["status_history"][1]["note"] == "Transfer seen on statement"
    assert (got["carrier"], got["tracking_number"]) == ("Malca-Amit", "MA123")
    async with app.state.sessionmaker() as session:
        audited = list(
            await session.scalars(
                select(AuditEvent.details)
                .where(AuditEvent.action == "order.status_changed")
                .order_by(AuditEvent.occurred_at)
            )
        )
    assert [d["to"] for d in audited] == ["PAID", "FULFILLED", "SHIPPED", "DELIVERED"]


async def test_customers_cannot_change_status(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who = await shopper(app, client, await stocked_piece(app))
    order = await placed_order(client, who)
    response = await client.put(
        f"/api/orders/{order['id']}/status", json={"status": "PAID"}, headers=who.headers
    )
    bad = await client.put(
        f"/api/orders/{order['id']}/status", json={"status": "LOST"}, headers=staff.headers
    )
    assert (response.status_code, bad.status_code) == (403, 422)
