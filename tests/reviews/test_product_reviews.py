"""Reviews: one per customer per product, pending until staff approve, verified purchases."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from elysium.kit.clock import utcnow
from elysium.models import AuditEvent, Order, OrderItem, Product
from factories import LONDON_ADDRESS, Account, create_product, make_account

REVIEW = {"rating": 5, "title": "Breathtaking", "body": "The sapphire catches every light."}


async def write_review(
    client: AsyncClient, author: Account, product: Product, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/products/{product.slug}/reviews", json=REVIEW | overrides, headers=author.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def moderate(
    client: AsyncClient, staff: Account, review_id: str, status: str, **extra: Any
) -> Any:
    return await client.patch(
        f"/api/admin/reviews/{review_id}", json={"status": status} | extra, headers=staff.headers
    )


async def insert_order(app: FastAPI, account: Account, product: Product, status: str) -> None:
    """An order of one piece, inserted directly, in the given status."""
    order_id = uuid.uuid4()
    async with app.state.sessionmaker() as session, session.begin():
        session.add(
            Order(
                id=order_id,
                order_number=f"ELY-TEST-{uuid.uuid4().hex[:8]}",
                user_id=uuid.UUID(account.id),
                status=status,
                payment_status="paid" if status != "PENDING" else "unpaid",
                payment_provider="bank_transfer",
                subtotal_pence=240000,
                vat_pence=40000,
                total_pence=240000,
                shipping_method="uk_next_day",
                shipping_address=LONDON_ADDRESS,
                billing_address=LONDON_ADDRESS,
                reservation_expires_at=utcnow() + timedelta(days=3),
            )
        )
        await session.flush()
        session.add(
            OrderItem(
                order_id=order_id,
                position=1,
                product_id=product.id,
                product_slug=product.slug,
                title=product.title,
                configuration={},
                variant_key="default",
                quantity=1,
                unit_price_pence=240000,
                line_total_pence=240000,
            )
        )


async def test_a_new_review_is_pending_and_not_public(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    piece = await create_product(app)
    review = await write_review(client, customer, piece)
    assert review["status"] == "pending"
    assert review["verified_purchase"] is False
    assert {k: review[k] for k in REVIEW} == REVIEW
    assert set(review) == {
        "id",
        "rating",
        "title",
        "body",
        "status",
        "verified_purchase",
        "created_at",
    }
    public = await client.get(f"/api/products/{piece.slug}/reviews")
    assert public.status_code == 200
    assert public.json() == {
        "items": [],
        "next_cursor": None,
        "average_rating": None,
        "review_count": 0,
    }


async def test_one_review_per_customer_per_product(app: FastAPI, client: AsyncClient) -> None:
    piece, other_piece = await create_product(app), await create_product(app)
    author, neighbour = await make_account(app), await make_account(app)
    await write_review(client, author, piece)
    again = await client.post(
        f"/api/products/{piece.slug}/reviews", json=REVIEW, headers=author.headers
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    await write_review(client, neighbour, piece)
    await write_review(client, author, other_piece)


async def test_writing_needs_sign_in_and_a_real_product(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    piece = await create_product(app)
    anonymous = await client.post(f"/api/products/{piece.slug}/reviews", json=REVIEW)
    assert anonymous.status_code == 401
    ghost = f"no-such-piece-{uuid.uuid4().hex[:6]}"
    unknown = await client.post(
        f"/api/products/{ghost}/reviews", json=REVIEW, headers=customer.headers
    )
    assert unknown.status_code == 404
    assert (await client.get(f"/api/products/{ghost}/reviews")).status_code == 404


async def test_bad_reviews_are_refused(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    piece = await create_product(app)
    bad: list[dict[str, Any]] = [
        {"rating": 0},
        {"rating": 6},
        {"rating": "5"},
        {"rating": 4.5},
        {"title": ""},
        {"title": "x" * 151},
        {"body": "   "},
        {"body": "x" * 5001},
        {"body": "nul \x00 byte"},
        {"verified_purchase": True},
        {"status": "approved"},
    ]
    for override in bad:
        response = await client.post(
            f"/api/products/{piece.slug}/reviews", json=REVIEW | override, headers=customer.headers
        )
        assert response.status_code == 422, override
    missing = await client.post(
        f"/api/products/{piece.slug}/reviews", json={"rating": 4}, headers=customer.headers
    )
    assert {e["field"] for e in missing.json()["errors"]} == {"title", "body"}
    await write_review(client, customer, piece)  # nothing was stored by the refused attempts


async def test_staff_routes_refuse_guests_and_customers(
    app: FastAPI, client: AsyncClient, customer: Account
) -> None:
    piece = await create_product(app)
    review = await write_review(client, customer, piece)
    path = f"/api/admin/reviews/{review['id']}"
    for headers, expected in (({}, 401), (customer.headers, 403)):
        assert (await client.get("/api/admin/reviews", headers=headers)).status_code == expected
        changed = await client.patch(path, json={"status": "approved"}, headers=headers)
        assert changed.status_code == expected


async def test_approval_publishes_notifies_and_is_audited(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    piece = await create_product(app)
    first, second, third = [await make_account(app) for _ in range(3)]
    loved = await write_review(client, first, piece, rating=5)
    liked = await write_review(client, second, piece, rating=4, body="<b>Bold</b> & lovely")
    spam = await write_review(client, third, piece, rating=1, title="Buy cheap gold")

    queue = await client.get("/api/admin/reviews", headers=staff.headers)
    assert [r["id"] for r in queue.json()["items"]] == [loved["id"], liked["id"], spam["id"]]
    assert queue.json()["items"][0]["product_slug"] == piece.slug

    for review in (loved, liked):
        approved = await moderate(client, staff, review["id"], "approved", note="Lovely")
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
    assert (await moderate(client, staff, spam["id"], "rejected")).json()["status"] == "rejected"

    public = (await client.get(f"/api/products/{piece.slug}/reviews")).json()
    assert [r["id"] for r in public["items"]] == [liked["id"], loved["id"]]
    assert (public["average_rating"], public["review_count"]) == (4.5, 2)
    assert public["items"][0]["body"] == "<b>Bold</b> & lovely"  # kept verbatim, as text
    assert public["items"][0]["author_name"] == "Ada"

    page = (await client.get(f"/api/products/{piece.slug}/reviews?limit=1")).json()
    assert [r["id"] for r in page["items"]] == [liked["id"]]
    rest = await client.get(
        f"/api/products/{piece.slug}/reviews?limit=1&cursor={page['next_cursor']}"
    )
    assert [r["id"] for r in rest.json()["items"]] == [loved["id"]]

    notices = (await client.get("/api/notifications", headers=first.headers)).json()["items"]
    assert [n["kind"] for n in notices] == ["review_approved"]
    assert (await client.get("/api/notifications", headers=third.headers)).json()["items"] == []
    rejected = await client.get("/api/admin/reviews?status=rejected", headers=staff.headers)
    assert [r["id"] for r in rejected.json()["items"]] == [spam["id"]]

    async with app.state.sessionmaker() as session:
        events = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "review.moderated"))
        )
    assert {e.target_id for e in events} == {loved["id"], liked["id"], spam["id"]}
    assert {str(e.actor_id) for e in events} == {staff.id}


async def test_approving_twice_notifies_once(
    app: FastAPI, client: AsyncClient, customer: Account, staff: Account
) -> None:
    piece = await create_product(app)
    review = await write_review(client, customer, piece)
    for status in ("approved", "approved", "rejected", "approved"):
        assert (await moderate(client, staff, review["id"], status)).status_code == 200
    notices = (await client.get("/api/notifications", headers=customer.headers)).json()["items"]
    assert len(notices) == 2  # approved, then approved again after a rejection


async def test_bad_moderation_is_refused(
    app: FastAPI, client: AsyncClient, customer: Account, staff: Account
) -> None:
    piece = await create_product(app)
    review = await write_review(client, customer, piece)
    for body in ({"status": "pending"}, {"status": "maybe"}, {}, {"status": "approved", "x": 1}):
        response = await client.patch(
            f"/api/admin/reviews/{review['id']}", json=body, headers=staff.headers
        )
        assert response.status_code == 422, body
    assert (await moderate(client, staff, str(uuid.uuid4()), "approved")).status_code == 404
    for query in ("?status=hidden", "?cursor=nonsense", "?limit=0"):
        response = await client.get(f"/api/admin/reviews{query}", headers=staff.headers)
        assert response.status_code == 422, query
    still = await client.get("/api/admin/reviews", headers=staff.headers)
    assert [r["status"] for r in still.json()["items"]] == ["pending"]


async def test_verified_purchase_needs_a_paid_order_of_that_piece(
    app: FastAPI, client: AsyncClient
) -> None:
    piece, other_piece = await create_product(app), await create_product(app)
    paid_buyer, pending_buyer, other_buyer = [await make_account(app) for _ in range(3)]
    await insert_order(app, paid_buyer, piece, "DELIVERED")
    await insert_order(app, pending_buyer, piece, "PENDING")
    await insert_order(app, other_buyer, other_piece, "PAID")
    verdicts = [
        (await write_review(client, who, piece))["verified_purchase"]
        for who in (paid_buyer, pending_buyer, other_buyer)
    ]
    assert verdicts == [True, False, False]
