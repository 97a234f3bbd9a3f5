"""Reviews (approve; reject with a reason) and bespoke enquiries (the pipeline, assignee,
notes) from the back office, through the services the API uses."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from admin_helpers import post_form, sign_in_staff
from elysium.models import AuditEvent, BespokeEnquiry, Review
from factories import Account, create_product, make_account

ENQUIRY = {
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "phone": "+44 20 7946 0001",
    "piece_type": "signet ring",
    "budget": {"amount": "52890.00", "currency": "GBP"},
    "notes": "A family crest on <i>yellow</i> gold.",
}


async def _review(app: FastAPI, client: AsyncClient, title: str) -> str:
    author = await make_account(app)
    piece = await create_product(app)
    body = {"rating": 4, "title": title, "body": "Lovely <script>x</script>"}
    response = await client.post(
        f"/api/products/{piece.slug}/reviews", json=body, headers=author.headers
    )
    assert response.status_code == 201, response.text
    review_id: str = response.json()["id"]
    return review_id


async def _status(app: FastAPI, review_id: str) -> tuple[str, str | None]:
    async with app.state.sessionmaker() as session:
        review = await session.get(Review, uuid.UUID(review_id))
        assert review is not None
        return review.status, review.moderation_note


async def test_staff_approve_a_review_from_the_page(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    review_id = await _review(app, client, "Breathtaking")
    await sign_in_staff(client, staff)
    page = await client.get("/admin/reviews")
    assert f'data-testid="review-approve-{review_id}"' in page.text
    assert f'data-testid="review-reject-{review_id}"' in page.text
    assert "&lt;script&gt;" in page.text  # review text is shown escaped
    assert "<script>x" not in page.text

    done = await post_form(client, f"/admin/reviews/{review_id}/approve", {})

    assert done.status_code == 303
    assert await _status(app, review_id) == ("approved", None)
    assert review_id not in (await client.get("/admin/reviews")).text
    assert review_id in (await client.get("/admin/reviews?status=approved")).text
    async with app.state.sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "review.moderated")
        )
    assert event is not None
    assert str(event.actor_id) == staff.id


async def test_rejecting_needs_a_reason(app: FastAPI, client: AsyncClient, staff: Account) -> None:
    review_id = await _review(app, client, "Meh")
    await sign_in_staff(client, staff)

    blank = await post_form(client, f"/admin/reviews/{review_id}/reject", {"note": "  "})
    assert blank.status_code == 422
    assert await _status(app, review_id) == ("pending", None)

    done = await post_form(
        client, f"/admin/reviews/{review_id}/reject", {"note": "Names another client"}
    )
    assert done.status_code == 303
    assert await _status(app, review_id) == ("rejected", "Names another client")
    missing = await post_form(
        client, "/admin/reviews/00000000-0000-0000-0000-000000000000/approve", {}
    )
    assert missing.status_code == 404


async def _enquiry(client: AsyncClient) -> dict[str, Any]:
    response = await client.post("/api/bespoke", json=ENQUIRY)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_enquiry_page_shows_every_field(client: AsyncClient, staff: Account) -> None:
    enquiry = await _enquiry(client)
    await sign_in_staff(client, staff)

    listed = await client.get("/admin/bespoke?status=new")
    page = await client.get(f"/admin/bespoke/{enquiry['id']}")

    assert enquiry["reference"] in listed.text
    assert "£52,890.00" in listed.text
    assert page.status_code == 200
    for shown in (
        "Grace Hopper",
        "grace@example.com",
        "+44 20 7946 0001",
        "signet ring",
        "£52,890.00",
        "&lt;i&gt;yellow&lt;/i&gt;",
        enquiry["reference"],
    ):
        assert shown in page.text, shown
    assert 'data-testid="bespoke-status">New<' in page.text
    assert '<option value="consultation_booked">Consultation booked</option>' in page.text


async def test_enquiry_moves_through_the_pipeline_with_assignee_and_notes(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    enquiry = await _enquiry(client)
    colleague = await make_account(app, "staff", name="Jeweller Jones")
    await sign_in_staff(client, staff)
    path = f"/admin/bespoke/{enquiry['id']}"

    for status in ("contacted", "consultation_booked", "quoted", "won"):
        moved = await post_form(
            client, path, {"status": status, "assignee": colleague.id, "staff_notes": "Called"}
        )
        assert moved.status_code == 303, status
    page = await client.get(path)
    assert 'data-testid="bespoke-status">Won<' in page.text
    assert 'data-testid="bespoke-assignee">Jeweller Jones<' in page.text

    final = await post_form(client, path, {"status": "contacted"})
    assert final.status_code == 409  # won is final
    async with app.state.sessionmaker() as session:
        row = await session.get(BespokeEnquiry, uuid.UUID(enquiry["id"]))
        assert row is not None
        assert (row.status, str(row.assignee_id), row.staff_notes) == (
            "won",
            colleague.id,
            "Called",
        )
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "bespoke.updated")
                .order_by(AuditEvent.occurred_at)
            )
        ).all()
    assert [e.details["changes"].get("status") for e in events] == [
        ["new", "contacted"],
        ["contacted", "consultation_booked"],
        ["consultation_booked", "quoted"],
        ["quoted", "won"],
    ]


async def test_illegal_moves_and_bad_assignees_are_refused(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    enquiry = await _enquiry(client)
    customer = await make_account(app)
    await sign_in_staff(client, staff)
    path = f"/admin/bespoke/{enquiry['id']}"
    assert (await post_form(client, path, {"status": "quoted"})).status_code == 303
    assert (await post_form(client, path, {"status": "consultation_booked"})).status_code == 409
    assert (await post_form(client, path, {"status": "promoted"})).status_code == 422
    assert (await post_form(client, path, {"assignee": customer.id})).status_code == 422
    async with app.state.sessionmaker() as session:
        row = await session.get(BespokeEnquiry, uuid.UUID(enquiry["id"]))
        assert row is not None
        assert (row.status, row.assignee_id) == ("quoted", None)


async def test_the_api_follows_the_same_pipeline(client: AsyncClient, staff: Account) -> None:
    enquiry = await _enquiry(client)
    path = f"/api/bespoke/{enquiry['id']}"

    booked = await client.patch(path, json={"status": "consultation_booked"}, headers=staff.headers)
    assert booked.status_code == 200, booked.text
    assert booked.json()["status"] == "consultation_booked"
    back = await client.patch(path, json={"status": "contacted"}, headers=staff.headers)
    assert back.status_code == 200  # the consultation was cancelled
    lost = await client.patch(path, json={"status": "lost"}, headers=staff.headers)
    assert lost.status_code == 200
    refused = await client.patch(path, json={"status": "quoted"}, headers=staff.headers)
    assert refused.status_code == 409
    listed = await client.get("/api/bespoke?status=consultation_booked", headers=staff.headers)
    assert listed.status_code == 200
