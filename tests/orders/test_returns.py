"""Returns within 14 days of delivery: personalised lines exempt, the staff workflow, restock
through the ledger, refunds through the refund path and REFUNDED once everything is back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from elysium.errors import IllegalTransitionError
from elysium.models import (
    OrderReturn,
    OrderStatusChange,
    Product,
    SentEmail,
    StockItem,
    StockMovement,
)
from elysium.models.returns import ReturnStatus
from elysium.orders.returns import MOVES, ensure_move
from elysium.orders.schemas import ReturnUpdate
from factories import (
    HALF_CARAT,
    HALF_CARAT_KEY,
    Account,
    Shopper,
    add_to_cart,
    placed_order,
    shopper,
    stocked_piece,
)


async def _walk(client: AsyncClient, staff: Account, order_id: str, *statuses: str) -> None:
    for target in statuses:
        response = await client.put(
            f"/api/orders/{order_id}/status", json={"status": target}, headers=staff.headers
        )
        assert response.status_code == 200, response.text


async def _delivered(
    app: FastAPI, client: AsyncClient, staff: Account, *, quantity: int = 2, engraved: bool = False
) -> tuple[Shopper, Product, dict[str, Any]]:
    product = await stocked_piece(app, level=5)
    who = await shopper(app, client, product, quantity=quantity)
    if engraved:
        await add_to_cart(
            client, who.account, product, configuration=HALF_CARAT | {"engraving": "Forever"}
        )
    order = await placed_order(client, who)
    await _walk(client, staff, order["id"], "PAID", "FULFILLED", "SHIPPED", "DELIVERED")
    return who, product, order


async def _stock_level(app: FastAPI, product: Product) -> int:
    async with app.state.sessionmaker() as session:
        level = await session.scalar(
            select(StockItem.stock_level).where(
                StockItem.product_id == product.id, StockItem.variant_key == HALF_CARAT_KEY
            )
        )
    assert level is not None
    return int(level)


async def _return_emails(app: FastAPI, to: str) -> int:
    async with app.state.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(SentEmail)
            .where(SentEmail.to == to, SentEmail.template == "return_update")
        )
    return int(count or 0)


def _body(order: dict[str, Any], quantity: int = 1, line: int = 0) -> dict[str, Any]:
    return {
        "lines": [{"order_item_id": order["items"][line]["id"], "quantity": quantity}],
        "reason": "It does not suit me",
    }


async def _move(client: AsyncClient, staff: Account, return_id: str, **body: Any) -> Any:
    return await client.put(f"/api/returns/{return_id}", json=body, headers=staff.headers)


async def test_a_return_walks_to_refunded_and_the_order_to_refunded_when_all_is_back(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who, product, order = await _delivered(app, client, staff)
    url = f"/api/orders/{order['id']}/returns"
    level = await _stock_level(app, product)
    created = await client.post(url, json=_body(order), headers=who.headers)
    assert created.status_code == 201, created.text
    first = created.json()
    assert first["status"] == "requested"
    assert first["lines"] == [{"order_item_id": order["items"][0]["id"], "quantity": 1}]
    for status in ("authorised", "received"):
        moved = await _move(client, staff, first["id"], status=status)
        assert (moved.status_code, moved.json()["status"]) == (200, status), moved.text
    assert await _stock_level(app, product) == level + 1
    refunded = await _move(client, staff, first["id"], status="refunded")
    assert refunded.status_code == 200, refunded.text
    seen = (await client.get(f"/api/orders/{order['id']}", headers=who.headers)).json()
    assert (seen["status"], seen["payment_status"]) == ("DELIVERED", "partially_refunded")
    assert seen["payment"]["refunded"]["amount"] == "2400.00"
    assert [n["amount"]["amount"] for n in seen["credit_notes"]] == ["2400.00"]
    assert [r["status"] for r in seen["returns"]] == ["refunded"]
    second = (await client.post(url, json=_body(order), headers=who.headers)).json()
    for status in ("authorised", "received", "refunded"):
        assert (await _move(client, staff, second["id"], status=status)).status_code == 200
    seen = (await client.get(f"/api/orders/{order['id']}", headers=who.headers)).json()
    assert (seen["status"], seen["payment_status"]) == ("REFUNDED", "refunded")
    assert seen["payment"]["refunded"]["amount"] == "4800.00"
    assert len(seen["credit_notes"]) == 2
    assert await _return_emails(app, who.account.email) == 8  # every step of both returns
    async with app.state.sessionmaker() as session:
        reasons = list(
            await session.scalars(
                select(StockMovement.reason).where(
                    StockMovement.order_id == uuid.UUID(order["id"]),
                    StockMovement.reason == "return",
                )
            )
        )
    assert reasons == ["return", "return"]
    listed = (await client.get(url, headers=staff.headers)).json()
    assert [r["id"] for r in listed] == [first["id"], second["id"]]


async def test_a_piece_kept_for_inspection_is_not_restocked(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who, product, order = await _delivered(app, client, staff, quantity=1)
    level = await _stock_level(app, product)
    made = (
        await client.post(
            f"/api/orders/{order['id']}/returns", json=_body(order), headers=who.headers
        )
    ).json()
    await _move(client, staff, made["id"], status="authorised")
    received = await _move(client, staff, made["id"], status="received", restock=False)
    assert received.json()["restocked"] is False
    assert await _stock_level(app, product) == level


async def test_personalised_lines_are_exempt_and_name_the_line(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who, _, order = await _delivered(app, client, staff, quantity=1, engraved=True)
    plain, engraved = sorted(order["items"], key=lambda i: "engraving" in i["configuration"])
    body = {
        "lines": [
            {"order_item_id": plain["id"], "quantity": 1},
            {"order_item_id": engraved["id"], "quantity": 1},
        ],
        "reason": "Changed my mind",
    }
    response = await client.post(
        f"/api/orders/{order['id']}/returns", json=body, headers=who.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "lines.1.order_item_id"
    assert "personalised" in response.json()["detail"]


async def test_returns_need_a_delivered_order_within_14_days(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    pending = await placed_order(client, who)
    early = await client.post(
        f"/api/orders/{pending['id']}/returns", json=_body(pending), headers=who.headers
    )
    assert early.status_code == 409
    who, _, order = await _delivered(app, client, staff)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(OrderStatusChange)
            .where(OrderStatusChange.order_id == uuid.UUID(order["id"]))
            .values(at=OrderStatusChange.at - timedelta(days=15))
        )
    late = await client.post(
        f"/api/orders/{order['id']}/returns", json=_body(order), headers=who.headers
    )
    assert late.status_code == 409
    assert "14 days" in late.json()["detail"]


async def test_bad_returns_and_moves_are_refused(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    who, _, order = await _delivered(app, client, staff)
    url = f"/api/orders/{order['id']}/returns"
    too_many = await client.post(url, json=_body(order, quantity=3), headers=who.headers)
    unknown = await client.post(
        url,
        json={"lines": [{"order_item_id": str(uuid.uuid4()), "quantity": 1}], "reason": "x"},
        headers=who.headers,
    )
    assert (too_many.status_code, unknown.status_code) == (422, 422)
    stranger = await shopper(app, client)
    assert (await client.post(url, json=_body(order), headers=stranger.headers)).status_code == 404
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    made = (await client.post(url, json=_body(order), headers=who.headers)).json()
    assert (await _move(client, who.account, made["id"], status="authorised")).status_code == 403
    assert (await _move(client, staff, made["id"], status="refunded")).status_code == 409
    assert (await _move(client, staff, made["id"], status="rejected")).status_code == 422
    rejected = await _move(client, staff, made["id"], status="rejected", note="Worn")
    assert (rejected.json()["status"], rejected.json()["note"]) == ("rejected", "Worn")
    assert (await _move(client, staff, made["id"], status="authorised")).status_code == 409
    missing = await _move(client, staff, str(uuid.uuid4()), status="authorised")
    assert missing.status_code == 404


# --- the workflow as a state machine ------------------------------------------------------------

statuses = st.sampled_from(list(ReturnStatus))


@given(statuses, statuses)
def test_a_move_is_allowed_exactly_when_the_table_says_so(
    current: ReturnStatus, target: ReturnStatus
) -> None:
    row = OrderReturn(status=current)
    data = ReturnUpdate(status=target, note="A reason")
    if target in MOVES[current]:
        ensure_move(row, data)
    else:
        with pytest.raises(IllegalTransitionError):
            ensure_move(row, data)


@given(st.lists(statuses, max_size=8))
def test_every_walk_ends_refunded_or_rejected_and_never_leaves_them(
    targets: list[ReturnStatus],
) -> None:
    current = ReturnStatus.REQUESTED
    for target in targets:
        if target in MOVES[current]:
            current = target
    finals = {ReturnStatus.REFUNDED, ReturnStatus.REJECTED}
    assert {s for s, moves in MOVES.items() if not moves} == finals
    assert all(not MOVES[s] for s in finals)
    assert ReturnStatus.REFUNDED not in MOVES[ReturnStatus.REQUESTED]  # goods come back first
