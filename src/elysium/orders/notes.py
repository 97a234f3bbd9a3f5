"""Internal staff notes on an order: added by staff (audited), read newest first."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.models import OrderNote, User
from elysium.orders.history import lock_order
from elysium.orders.schemas import OrderNoteRead, OrderNoteWrite


async def add_note(
    session: AsyncSession, staff: User, order_id: uuid.UUID, data: OrderNoteWrite
) -> OrderNoteRead:
    """Keep a note on the order (404 for no such order); audited with its author."""
    order = await lock_order(session, order_id)
    note = OrderNote(order_id=order.id, author_id=staff.id, body=data.body)
    session.add(note)
    await session.flush()
    await session.refresh(note, ["created_at"])
    await record_event(
        session,
        "order.note_added",
        actor_id=staff.id,
        target_type="order",
        target_id=order.id,
        details={"note_id": str(note.id)},
    )
    return OrderNoteRead(
        id=note.id,
        body=note.body,
        author_id=staff.id,
        author_email=staff.email,
        created_at=note.created_at,
    )


async def list_notes(session: AsyncSession, order_id: uuid.UUID) -> list[OrderNoteRead]:
    """The order's notes, newest first, with their authors' emails."""
    rows = await session.execute(
        select(OrderNote, User.email)
        .outerjoin(User, User.id == OrderNote.author_id)
        .where(OrderNote.order_id == order_id)
        .order_by(OrderNote.created_at.desc(), OrderNote.id.desc())
    )
    return [
        OrderNoteRead(
            id=note.id,
            body=note.body,
            author_id=note.author_id,
            author_email=email,
            created_at=note.created_at,
        )
        for note, email in rows
    ]
