"""Walk every operation (the JSON API and /admin) as anonymous, two customers, staff and admin.

The expected answer comes from the one permission table: signed-out callers get 401 (the back
office redirects to its sign-in page), customers get 403 on staff operations, staff get 403 on
admin operations, admins are never refused; and customer B gets 404 on customer A's things and
never sees them in a list.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from admin_helpers import csrf_token
from elysium.accounts.permissions import PERMISSIONS, Access
from factories import (
    HALF_CARAT_KEY,
    LONDON_ADDRESS,
    Account,
    book_next_free_slot,
    make_account,
    placed_order,
    shopper,
    stocked_piece,
)
from security_helpers import Operation, operations

SIGN_IN_NEEDED = {Access.SIGNED_IN, Access.STAFF, Access.ADMIN}
# Run last for each caller: they end the caller's session.
LAST = ("POST /api/auth/logout", "POST /admin/logout")
# Walked for the anonymous caller only: it would erase the signed-in caller's account (the
# privacy tests cover it).
ANONYMOUS_ONLY = {"DELETE /api/user"}
# A 401 here answers wrong credentials, not a missing sign-in.
SIGN_IN_FORMS = {"POST /api/auth/login", "POST /admin/login"}


@dataclass
class World:
    """Customer A's things, to put in paths; B, staff and admin are the other callers."""

    a: Account
    b: Account
    staff: Account
    admin: Account
    params: dict[str, str]


@pytest.fixture
async def world(app: FastAPI, client: AsyncClient) -> World:
    piece = await stocked_piece(app, level=5)
    a = await shopper(app, client, piece)
    order = await placed_order(client, a)
    await client.post(
        "/api/cart",
        json={"product_slug": piece.slug, "configuration": {"metal": "platinum", "carat": "0.50"}},
        headers=a.headers,
    )
    cart = (await client.get("/api/cart", headers=a.headers)).json()
    booking = await book_next_free_slot(client, a.account, "bridal")
    b, staff, admin = (
        await make_account(app),
        await make_account(app, "staff"),
        await make_account(app, "admin"),
    )
    params = {
        "order_id": order["id"],
        "address_id": a.address_id,
        "item_id": cart["items"][0]["id"] if cart["items"] else str(uuid.uuid4()),
        "consultation_id": booking["id"],
        "user_id": b.id,
        "slug": piece.slug,
        "product_slug": piece.slug,
        "variant_key": HALF_CARAT_KEY,
        "notification_id": str(uuid.uuid4()),
        "enquiry_id": str(uuid.uuid4()),
        "review_id": str(uuid.uuid4()),
        "coupon_id": str(uuid.uuid4()),
        "job_id": "987654321",
        "code": "NOSUCHCODE",
        "table": "sales-by-day",
        "number": "CRN-2026-000001",
        "return_id": str(uuid.uuid4()),
        "quote_id": str(uuid.uuid4()),
        "card_id": str(uuid.uuid4()),
        "plan_id": str(uuid.uuid4()),
        "subscription_id": str(uuid.uuid4()),
        "customer_id": b.id,
        "day": "2031-12-25",
        "token": "not-a-real-token",
    }
    return World(a.account, b, staff, admin, params)


def _url(op: Operation, params: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        return params[match.group(1).split(":")[0]]

    return re.sub(r"\{([^}]+)\}", fill, op.path)


def _walk_order(app: FastAPI) -> list[Operation]:
    ops = [op for op in operations(app) if not op.path.startswith("/admin/static")]
    return sorted(ops, key=lambda op: (op.key in LAST, LAST.index(op.key) if op.key in LAST else 0))


async def _call(http: AsyncClient, op: Operation, url: str, headers: dict[str, str]) -> Response:
    if op.path.startswith("/admin") and op.method == "POST":
        token = await csrf_token(http)
        return await http.post(
            url,
            content=f"csrf_token={token}".encode(),
            headers=headers | {"content-type": "application/x-www-form-urlencoded"},
        )
    body: dict[str, Any] | None = None if op.method in ("GET", "DELETE") else {}
    return await http.request(op.method, url, json=body, headers=headers)


async def _caller(app: FastAPI, ip: str) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=(ip, 1000))
    origin = {"Origin": app.state.settings.public_base_url}
    async with AsyncClient(transport=transport, base_url="http://t", headers=origin) as http:
        yield http


def _expected_refusal(access: Access, role: str, admin_page: bool) -> int | None:
    """The status a caller in `role` must get, or None when it must NOT be refused."""
    if access not in SIGN_IN_NEEDED:
        return None
    if role == "anonymous":
        return 303 if admin_page else 401
    if role == "customer" and access in (Access.STAFF, Access.ADMIN):
        return 403
    if role == "staff" and access is Access.ADMIN:
        return 403
    return None


async def test_every_operation_answers_each_role_as_the_table_says(
    app: FastAPI, world: World
) -> None:
    callers = {
        "anonymous": (None, "198.51.100.1"),
        "customer": (world.b, "198.51.100.2"),
        "staff": (world.staff, "198.51.100.3"),
        "admin": (world.admin, "198.51.100.4"),
    }
    problems = []
    walked = 0
    for role, (account, ip) in callers.items():
        async for http in _caller(app, ip):
            headers = account.headers if account else {}
            for op in _walk_order(app):
                if account is not None and op.key in ANONYMOUS_ONLY:
                    continue
                access = PERMISSIONS[op.key]
                admin_page = op.path.startswith("/admin")
                if admin_page and account is not None:  # the back office signs in by cookie
                    http.cookies.set(app.state.settings.staff_cookie_name, account.token)
                response = await _call(http, op, _url(op, world.params), headers)
                walked += 1
                status = response.status_code
                expected = _expected_refusal(access, role, admin_page)
                if expected is not None and status != expected:
                    problems.append(f"{role} {op.key}: {status}, expected {expected}")
                if expected == 303 and response.headers.get("location") != "/admin/login":
                    problems.append(f"{role} {op.key}: redirected to {response.headers}")
                answers_credentials = op.key in SIGN_IN_FORMS and status == 401
                if (
                    expected is None
                    and status in (401, 403)
                    and access is not Access.PROVIDER
                    and not answers_credentials
                ):
                    problems.append(f"{role} {op.key}: refused {status}: {response.text[:120]}")
                if status >= 500:
                    problems.append(f"{role} {op.key}: {status}")
    assert walked >= 4 * len(PERMISSIONS) - 3
    assert not problems, "\n".join(problems)


OWNED = {
    # customer A's things, asked for by customer B: 404, never A's data
    "GET /api/orders/{order_id}": None,
    "GET /api/orders/{order_id}/returns": None,
    "GET /api/orders/{order_id}/invoice": None,
    "POST /api/orders/{order_id}/pay": None,
    "POST /api/orders/{order_id}/cancel": None,
    "PUT /api/user/addresses/{address_id}": {"type": "shipping"} | LONDON_ADDRESS,
    "DELETE /api/user/addresses/{address_id}": None,
    "DELETE /api/consultations/{consultation_id}": None,
    "PATCH /api/consultations/{consultation_id}": {"starts_at": "2031-12-02T10:00:00+00:00"},
    "PUT /api/cart/{item_id}": {"quantity": 1},
    "DELETE /api/cart/{item_id}": None,
}


async def test_customer_b_gets_404_on_customer_as_things(
    app: FastAPI, client: AsyncClient, world: World
) -> None:
    owned_ops = [op for op in operations(app) if op.key in OWNED]
    assert len(owned_ops) == len(OWNED)
    for op in owned_ops:
        url = _url(op, world.params)
        response = await client.request(op.method, url, json=OWNED[op.key], headers=world.b.headers)
        assert response.status_code == 404, (op.key, response.status_code, response.text)
    # and A still has them all
    order = await client.get(f"/api/orders/{world.params['order_id']}", headers=world.a.headers)
    assert order.status_code == 200
    assert order.json()["status"] == "PENDING_PAYMENT" or order.json()["status"]


async def test_lists_never_leak_another_customers_things(client: AsyncClient, world: World) -> None:
    for path in (
        "/api/orders",
        "/api/user/addresses",
        "/api/consultations",
        "/api/notifications",
        "/api/wishlist",
        "/api/cart",
        "/api/analytics/recently-viewed",
    ):
        seen = (await client.get(path, headers=world.b.headers)).text
        for name in ("order_id", "address_id", "consultation_id", "item_id"):
            assert world.params[name] not in seen, (path, name)
