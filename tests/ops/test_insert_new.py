"""`db.insert_new`: the Core fast path writes what a flush would, outside the unit of work."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy import select

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


async def test_objects_stay_outside_the_session_and_are_written_once(app: FastAPI) -> None:
    """Kept out of the unit of work on purpose (a checkout's CPU): the rows are written by the
    one INSERT and the objects are never flushed again."""
    async with app.state.sessionmaker() as session, session.begin():
        user = User(email=f"insert-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        with count_statements(app) as sent:
            await insert_new(session, user)
            assert user not in session
            await session.flush()
        assert [sql.split()[:3] for sql in sent.sql] == [["INSERT", "INTO", "users"]]
        assert (await session.get(User, user.id)) is not user  # loaded fresh from the table
