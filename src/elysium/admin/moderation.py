"""Reviews to moderate and bespoke enquiries to work through, via their domains' services."""

from __future__ import annotations

import uuid
from typing import Annotated, get_args

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from elysium.accounts import service as accounts
from elysium.accounts.deps import StaffUser
from elysium.admin.pages import back_to, form_fields, parse, render, required
from elysium.admin.security import csrf_protect
from elysium.bespoke import service as bespoke
from elysium.bespoke.schemas import BespokeStatus, BespokeUpdate
from elysium.db import SessionDep
from elysium.kit.pagination import CursorQuery
from elysium.reviews import service as reviews
from elysium.reviews.schemas import ReviewModeration, ReviewStatus

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])
PAGE_SIZE = 50


@router.get("/reviews")
async def review_list(
    request: Request,
    staff: StaffUser,
    session: SessionDep,
    status: ReviewStatus = "pending",
    cursor: CursorQuery = None,
) -> Response:
    page = await reviews.list_reviews_for_moderation(session, status, PAGE_SIZE, cursor)
    return render(
        request,
        "reviews.html",
        staff,
        reviews=page.items,
        next_cursor=page.next_cursor,
        status=status,
        statuses=get_args(ReviewStatus),
    )


@router.post("/reviews/{review_id}/approve")
async def approve_review(
    request: Request, review_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    form = await form_fields(request)
    verdict = parse(ReviewModeration, {"status": "approved", "note": form.get("note")})
    await reviews.moderate_review(session, staff, review_id, verdict)
    return back_to("/admin/reviews")


@router.post("/reviews/{review_id}/reject")
async def reject_review(
    request: Request, review_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    """Rejecting needs a reason (kept as the moderation note, and in the audit log)."""
    note = required(await form_fields(request), "note")
    verdict = parse(ReviewModeration, {"status": "rejected", "note": note})
    await reviews.moderate_review(session, staff, review_id, verdict)
    return back_to("/admin/reviews")


@router.get("/bespoke")
async def bespoke_list(
    request: Request,
    staff: StaffUser,
    session: SessionDep,
    status: Annotated[BespokeStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    page = await bespoke.list_enquiries(session, status, PAGE_SIZE, cursor)
    return render(
        request,
        "bespoke.html",
        staff,
        enquiries=page.items,
        next_cursor=page.next_cursor,
        status=status,
        statuses=list(BespokeStatus),
    )


@router.get("/bespoke/{enquiry_id}")
async def bespoke_enquiry(
    request: Request, enquiry_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    enquiry = bespoke.enquiry_read(await bespoke.get_enquiry(session, enquiry_id))
    team = await accounts.list_staff(session)
    return render(
        request,
        "bespoke_enquiry.html",
        staff,
        enquiry=enquiry,
        next_statuses=sorted(bespoke.NEXT_STATUSES[enquiry.status], key=list(BespokeStatus).index),
        team=team,
        assignee=next((m for m in team if m.id == enquiry.assignee), None),
    )


@router.post("/bespoke/{enquiry_id}")
async def update_bespoke(
    request: Request, enquiry_id: uuid.UUID, staff: StaffUser, session: SessionDep
) -> Response:
    """One form for status, assignee and notes; a blank assignee unassigns."""
    form = await form_fields(request)
    values: dict[str, object] = {
        "assignee": form.get("assignee"),
        "staff_notes": form.get("staff_notes"),
    }
    if form.get("status"):
        values["status"] = form["status"]
    await bespoke.update_enquiry(session, staff, enquiry_id, parse(BespokeUpdate, values))
    return back_to(f"/admin/bespoke/{enquiry_id}")
