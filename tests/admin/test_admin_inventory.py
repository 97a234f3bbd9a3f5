"""The inventory pages: levels, the ledger, thresholds and staff holds, through the service the
API uses (same checks, same audit)."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from admin_helpers import post_form, sign_in_staff
from elysium.models import AuditEvent, StockMovement
from factories import HALF_CARAT_KEY, ONE_CARAT_KEY, Account, stocked_piece
from inventory_helpers import available, hold, line, stock_row


async def test_overview_lists_every_variant_and_the_low_stock_view_names_the_piece(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    piece = await stocked_piece(app, {HALF_CARAT_KEY: 5, ONE_CARAT_KEY: 1})
    await sign_in_staff(client, staff)

    page = await client.get("/admin/inventory")

    assert page.status_code == 200
    low = page.text.split('data-testid="low-stock"')[1].split("</table>")[0]
    assert low.count('data-testid="low-stock-row"') == 1  # 1 available <= threshold 1
    assert ONE_CARAT_KEY in low
    assert HALF_CARAT_KEY not in low
    assert piece.title in low
    assert f'href="/admin/inventory/{piece.slug}"' in low
    assert HALF_CARAT_KEY in page.text  # the full list has every variant


async def test_adjusting_stock_writes_a_ledger_row_and_the_audit(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    piece = await stocked_piece(app, 5)
    await sign_in_staff(client, staff)
    page = await client.get(f"/admin/inventory/{piece.slug}")
    assert f'data-testid="available-{HALF_CARAT_KEY}">5<' in page.text
    assert f'data-testid="stock-adjust-{HALF_CARAT_KEY}"' in page.text
    assert 'name="adjust"' in page.text
    assert 'name="reason"' in page.text

    done = await post_form(
        client,
        f"/admin/inventory/{piece.slug}/adjust",
        {"variant_key": HALF_CARAT_KEY, "adjust": "-2", "reason": "Two sent to the workshop"},
    )

    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/admin/inventory/{piece.slug}#v-")
    assert await available(app, piece) == 3
    page = await client.get(f"/admin/inventory/{piece.slug}")
    assert f'data-testid="available-{HALF_CARAT_KEY}">3<' in page.text
    ledger = page.text.split(f'data-testid="ledger-{HALF_CARAT_KEY}"')[1].split("</table>")[0]
    assert "Two sent to the workshop" in ledger
    assert "-2" in ledger
    async with app.state.sessionmaker() as session:
        [event] = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "inventory.stock_adjust")
            )
        ).all()
    assert str(event.actor_id) == staff.id
    assert event.details["from"] == 5
    assert event.details["to"] == 3


async def test_stock_cannot_fall_below_the_reserved_units_and_nothing_changes(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    piece = await stocked_piece(app, 3)
    await hold(app, [line(piece, quantity=2)])
    await sign_in_staff(client, staff)
    item = await stock_row(app, piece)
    movements_before = await _movements(app, item.id)

    refused = await post_form(
        client,
        f"/admin/inventory/{piece.slug}/adjust",
        {"variant_key": HALF_CARAT_KEY, "adjust": "-2", "reason": "Breakage"},
    )

    assert refused.status_code == 409
    assert "reserved" in refused.text
    assert (await stock_row(app, piece)).stock_level == 3
    assert await _movements(app, item.id) == movements_before


async def test_bad_forms_are_422_and_change_nothing(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    piece = await stocked_piece(app, 3)
    await sign_in_staff(client, staff)
    path = f"/admin/inventory/{piece.slug}/adjust"
    for fields in (
        {"variant_key": HALF_CARAT_KEY, "adjust": "two", "reason": "x"},
        {"variant_key": HALF_CARAT_KEY, "adjust": "0", "reason": "x"},
        {"variant_key": HALF_CARAT_KEY, "adjust": "1", "reason": ""},
        {"variant_key": "", "adjust": "1", "reason": "x"},
    ):
        response = await post_form(client, path, fields)
        assert response.status_code == 422, fields
        assert "text/html" in response.headers["content-type"]
    missing = await post_form(
        client, path, {"variant_key": "carat=9.99;metal=tin", "adjust": "1", "reason": "x"}
    )
    assert missing.status_code in (404, 422)
    assert (await stock_row(app, piece)).stock_level == 3


async def test_threshold_is_set_with_a_reason_and_audited(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    piece = await stocked_piece(app, 3)
    await sign_in_staff(client, staff)

    done = await post_form(
        client,
        f"/admin/inventory/{piece.slug}/threshold",
        {"variant_key": HALF_CARAT_KEY, "low_stock_threshold": "4", "reason": "Christmas"},
    )

    assert done.status_code == 303
    item = await stock_row(app, piece)
    assert (item.low_stock_threshold, item.stock_level) == (4, 3)
    listed = await client.get("/admin/inventory")
    assert listed.text.count('data-testid="low-stock-row"') == 1
    async with app.state.sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "inventory.threshold_set")
        )
    assert event is not None
    assert (event.details["from"], event.details["to"], event.details["reason"]) == (
        1,
        4,
        "Christmas",
    )
    negative = await post_form(
        client,
        f"/admin/inventory/{piece.slug}/threshold",
        {"variant_key": HALF_CARAT_KEY, "low_stock_threshold": "-1", "reason": "x"},
    )
    assert negative.status_code == 422


async def test_staff_place_and_release_a_hold(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    piece = await stocked_piece(app, 4)
    await sign_in_staff(client, staff)
    base = f"/admin/inventory/{piece.slug}"

    placed = await post_form(
        client,
        f"{base}/hold",
        {"variant_key": HALF_CARAT_KEY, "quantity": "3", "reason": "Private viewing"},
    )
    assert placed.status_code == 303
    assert await available(app, piece) == 1
    page = await client.get(base)
    assert "Private viewing" in page.text
    assert 'data-testid="hold-release-' in page.text

    too_many = await post_form(
        client, f"{base}/hold", {"variant_key": HALF_CARAT_KEY, "quantity": "2", "reason": "x"}
    )
    assert too_many.status_code == 409
    assert await available(app, piece) == 1

    released = await post_form(
        client,
        f"{base}/release",
        {"variant_key": HALF_CARAT_KEY, "quantity": "2", "reason": "Client left"},
    )
    assert released.status_code == 303
    assert await available(app, piece) == 3
    over = await post_form(
        client, f"{base}/release", {"variant_key": HALF_CARAT_KEY, "quantity": "5", "reason": "x"}
    )
    assert over.status_code == 409
    assert await available(app, piece) == 3


async def test_a_csrf_less_adjustment_is_refused_and_changes_nothing(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    piece = await stocked_piece(app, 5)
    await sign_in_staff(client, staff)
    await client.get("/admin/inventory")

    refused = await post_form(
        client,
        f"/admin/inventory/{piece.slug}/adjust",
        {"variant_key": HALF_CARAT_KEY, "adjust": "5", "reason": "x"},
        token="forged",
    )

    assert refused.status_code == 403
    assert await available(app, piece) == 5


async def _movements(app: FastAPI, item_id: object) -> int:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(StockMovement.id).where(StockMovement.stock_item_id == item_id)
        )
        return len(rows.all())


async def test_the_threshold_api_uses_the_same_service(
    app: FastAPI, client: AsyncClient, staff: Account, customer: Account
) -> None:
    piece = await stocked_piece(app, 3)
    body = {
        "product_slug": piece.slug,
        "variant_key": HALF_CARAT_KEY,
        "low_stock_threshold": 2,
        "reason": "Slow season",
    }

    done = await client.post("/api/inventory/threshold", json=body, headers=staff.headers)

    assert done.status_code == 200, done.text
    assert (done.json()["low_stock_threshold"], done.json()["stock_level"]) == (2, 3)
    refused = await client.post("/api/inventory/threshold", json=body, headers=customer.headers)
    assert refused.status_code == 403
    for wrong, status in (
        ({"variant_key": "carat=9.99;metal=tin"}, 422),
        ({"product_slug": "no-such-piece"}, 404),
        ({"low_stock_threshold": -1}, 422),
        ({"reason": ""}, 422),
    ):
        response = await client.post(
            "/api/inventory/threshold", json=body | wrong, headers=staff.headers
        )
        assert response.status_code == status, wrong
    assert (await stock_row(app, piece)).low_stock_threshold == 2
