"""Coupons, failed jobs and the audit log from the back office; the audit API."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select

from admin_helpers import post_form, sign_in_staff
from backoffice import failed_job
from elysium.kit.clock import london_today
from elysium.models import AuditEvent, Coupon
from factories import HALF_CARAT_KEY, Account, make_account, stocked_piece


async def test_staff_create_list_and_deactivate_coupons(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    await sign_in_staff(client, staff)

    made = await post_form(
        client,
        "/admin/coupons",
        {
            "code": "winter25",
            "kind": "fixed",
            "amount": "1,250",
            "min_subtotal": "5000",
            "starts_at": "2026-12-01T09:00",
            "max_per_customer": "1",
            "collection_slugs": "aurora",
        },
    )

    assert made.status_code == 303
    page = await client.get("/admin/coupons")
    assert 'data-testid="coupon-WINTER25"' in page.text
    assert "£1,250.00 off" in page.text
    assert "£5,000.00" in page.text
    assert "1 Dec 2026, 09:00" in page.text  # London time, as typed
    async with app.state.sessionmaker() as session:
        coupon = await session.scalar(select(Coupon).where(Coupon.code == "WINTER25"))
    assert coupon is not None
    assert coupon.amount_pence == 125000
    duplicate = await post_form(
        client, "/admin/coupons", {"code": "Winter25", "kind": "percentage", "percent": "10"}
    )
    assert duplicate.status_code == 409
    for bad in (
        {"code": "X1", "kind": "fixed"},
        {"code": "X2", "kind": "fixed", "amount": "lots"},
        {"code": "X3", "kind": "percentage", "percent": "150"},
    ):
        assert (await post_form(client, "/admin/coupons", bad)).status_code == 422, bad

    off = await post_form(client, f"/admin/coupons/{coupon.id}/deactivate", {})

    assert off.status_code == 303
    page = await client.get("/admin/coupons")
    assert 'data-testid="coupon-state-WINTER25">Deactivated<' in page.text
    cart = await client.get("/api/admin/coupons", headers=staff.headers)
    assert cart.json()["items"][0]["active"] is False


async def test_staff_retry_a_failed_job(app: FastAPI, client: AsyncClient, staff: Account) -> None:
    job_id = await failed_job(app)
    await sign_in_staff(client, staff)
    page = await client.get("/admin/jobs")
    assert f'data-testid="job-retry-{job_id}"' in page.text
    assert "Deliver email" in page.text

    done = await post_form(client, f"/admin/jobs/{job_id}/retry", {})

    assert done.status_code == 303
    assert f'data-testid="job-{job_id}"' not in (await client.get("/admin/jobs")).text
    again = await post_form(client, f"/admin/jobs/{job_id}/retry", {})
    assert again.status_code == 409
    assert (await post_form(client, "/admin/jobs/999999/retry", {})).status_code == 404


async def _some_events(app: FastAPI, client: AsyncClient, staff: Account) -> Account:
    """Two stock adjustments by `staff`, one hold by another member of staff."""
    piece = await stocked_piece(app, 5)
    other = await make_account(app, "staff", name="Other Person")
    path = f"/api/inventory/{piece.slug}/{HALF_CARAT_KEY}"
    for change in (1, -1):
        response = await client.put(
            path, json={"adjust": change, "reason": "count"}, headers=staff.headers
        )
        assert response.status_code == 200, response.text
    held = await client.post(
        "/api/inventory/reserve",
        json={
            "product_slug": piece.slug,
            "variant_key": HALF_CARAT_KEY,
            "quantity": 1,
            "reason": "viewing",
        },
        headers=other.headers,
    )
    assert held.status_code == 201, held.text
    return other


async def test_the_audit_api_filters_and_pages(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    other = await _some_events(app, client, staff)
    today = london_today().isoformat()

    async def get(query: str) -> Response:
        return await client.get(f"/api/admin/audit?{query}", headers=staff.headers)

    mine = (await get(f"actor_id={staff.id}")).json()
    assert [e["action"] for e in mine["items"]] == ["inventory.stock_adjust"] * 2 + ["auth.sign_in"]
    family = (await get("action=inventory.")).json()
    assert len(family["items"]) == 3
    holds = (await get("action=inventory.hold_placed")).json()
    assert [e["actor_id"] for e in holds["items"]] == [other.id]
    by_type = (await get("target=stock_item")).json()
    assert len(by_type["items"]) == 2
    one = by_type["items"][0]
    exact = (await get(f"target=stock_item:{one['target_id']}")).json()
    assert len(exact["items"]) == 2
    assert len((await get(f"from={today}&to={today}&action=inventory.")).json()["items"]) == 3
    yesterday = (london_today() - timedelta(days=1)).isoformat()
    assert (await get(f"to={yesterday}")).json()["items"] == []

    first = (await get("action=inventory.&limit=2")).json()
    assert len(first["items"]) == 2
    rest = (await get(f"action=inventory.&limit=2&cursor={first['next_cursor']}")).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    seen = {e["id"] for e in first["items"] + rest["items"]}
    assert len(seen) == 3

    bad = await get("cursor=nonsense")
    assert bad.status_code == 422
    assert (await get("actor_id=not-a-uuid")).status_code == 422
    assert (await get("action=a%00b")).status_code == 422
    assert (await get("to=9999-12-31")).status_code == 422
    customer = await make_account(app)
    refused = await client.get("/api/admin/audit", headers=customer.headers)
    assert refused.status_code == 403


async def test_the_audit_page_filters_by_actor_action_target_and_day(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    other = await _some_events(app, client, staff)
    await sign_in_staff(client, staff)

    everything = await client.get("/admin/audit?action=inventory.")
    by_other = await client.get(f"/admin/audit?actor_id={other.id}&action=inventory.")
    by_action = await client.get("/admin/audit?action=inventory.stock_adjust")
    by_target = await client.get("/admin/audit?target=product")
    before = await client.get("/admin/audit?to=2020-01-01")

    assert everything.text.count('data-testid="audit-row"') == 3
    assert by_other.text.count('data-testid="audit-row"') == 1
    assert "Other Person" in by_other.text
    assert by_action.text.count('data-testid="audit-row"') == 2
    assert by_target.text.count('data-testid="audit-row"') == 1
    assert before.text.count('data-testid="audit-row"') == 0
    async with app.state.sessionmaker() as session:
        count = len((await session.scalars(select(AuditEvent.id))).all())
    assert count >= 3
