"""`db.insert_new`: the Core fast path writes what a flush would, and the objects are persistent."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy import inspect, select

from elysium.db import insert_new
from elysium.models import Notification, User
from query_counter import count_statements


async def test_rows_get_their_defaults_and_are_stored_in_order(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        user = User(email=f"insert-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        await insert_new(session, user)  # parent first: the notifications reference it
        first = Notification(user_id=user.id, kind="k", title="one", body="b")
        second = Notification(user_id=user.id, kind="k", title="two", body="b", data={"n": 2})
        await insert_new(session, first, second)

    assert isinstance(user.id, uuid.UUID)  # Python-side default set on the object
    assert first.data == {}  # callable default (dict) set on the object
    assert first.created_at is not None  # database default read back
    assert second.created_at >= first.created_at
    async with app.state.sessionmaker() as session:
        stored = (
            await session.scalars(
                select(Notification)
                .where(Notification.user_id == user.id)
                .order_by(Notification.created_at)
            )
        ).all()
    assert [(n.id, n.title, n.data) for n in stored] == [
        (first.id, "one", {}),
        (second.id, "two", {"n": 2}),
    ]
    assert [n.created_at for n in stored] == [first.created_at, second.created_at]


async def test_written_objects_join_the_session_without_a_second_insert(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        user = User(email=f"insert-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        with count_statements(app) as sent:
            await insert_new(session, user)
            assert inspect(user).persistent
            assert await session.get(User, user.id) is user  # from the identity map
            assert user.name is None  # a column left out reads as stored, with no query
            await session.flush()
        assert [sql.split()[:3] for sql in sent.sql] == [["INSERT", "INTO", "users"]]


async def test_a_change_after_insert_new_is_saved_on_commit(app: FastAPI) -> None:
    """A fresh checkout returned an order outside the session: changes to it were lost."""
    user = await _stored_user(app)
    async with app.state.sessionmaker() as session:
        async with session.begin():
            notice = Notification(user_id=user.id, kind="k", title="Placed", body="b")
            await insert_new(session, notice)
        with count_statements(app) as sent:
            async with session.begin():
                notice.title = "Paid"
                notice.data = {"order": "ELY-2026-000001"}
        assert [sql.split()[:2] for sql in sent.sql] == [["UPDATE", "notifications"]]
    async with app.state.sessionmaker() as session:
        stored = await session.get(Notification, notice.id)
    assert stored is not None
    assert (stored.title, stored.data) == ("Paid", {"order": "ELY-2026-000001"})


async def _stored_user(app: FastAPI) -> User:
    async with app.state.sessionmaker() as session, session.begin():
        user = User(email=f"insert-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        session.add(user)
    return user
