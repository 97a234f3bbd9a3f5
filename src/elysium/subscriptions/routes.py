"""Saved cards, care plans and subscriptions (contract: "Care plans and saved cards")."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from elysium.accounts.deps import AdminUser, CurrentUser, StaffUser
from elysium.db import SessionDep
from elysium.kit.pagination import LimitQuery
from elysium.models.subscription import SubscriptionStatus
from elysium.subscriptions import plans, service, wallet
from elysium.subscriptions.deps import BillingDep
from elysium.subscriptions.schemas import (
    CardSetupRead,
    CarePlanCreate,
    CarePlanRead,
    CarePlanUpdate,
    SavedCardRead,
    SubscriptionAdminRead,
    SubscriptionCreate,
    SubscriptionRead,
)

router = APIRouter(tags=["care plans"])


@router.post("/api/user/payment-methods/setup", status_code=status.HTTP_201_CREATED)
async def start_card_setup(
    user: CurrentUser, session: SessionDep, billing: BillingDep
) -> CardSetupRead:
    """Start saving a card: confirm the SetupIntent's `client_secret` with Stripe.js.

    The card is listed once Stripe reports it (a webhook). 409 when card payments are off.
    """
    return await wallet.start_card_setup(session, billing, user)


@router.get("/api/user/payment-methods")
async def list_saved_cards(user: CurrentUser, session: SessionDep) -> list[SavedCardRead]:
    """Your saved cards (brand, last four digits, expiry); no card numbers are kept."""
    return await wallet.list_cards(session, user)


@router.delete("/api/user/payment-methods/{card_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_saved_card(
    card_id: uuid.UUID, user: CurrentUser, session: SessionDep, billing: BillingDep
) -> None:
    """Remove a saved card (detached at Stripe); 404 for one that is not yours."""
    await wallet.remove_card(session, billing, user, card_id)


@router.put("/api/user/payment-methods/{card_id}/default")
async def choose_default_card(
    card_id: uuid.UUID, user: CurrentUser, session: SessionDep, billing: BillingDep
) -> SavedCardRead:
    """Make a saved card your default: care plans are charged to it."""
    return await wallet.make_default(session, billing, user, card_id)


@router.get("/api/care-plans")
async def list_care_plans(session: SessionDep) -> list[CarePlanRead]:
    """The care plans on sale (cleaning, inspection, re-plating, stone tightening...)."""
    return await plans.list_active_plans(session)


@router.post("/api/admin/care-plans", status_code=status.HTTP_201_CREATED)
async def create_care_plan(
    body: CarePlanCreate, admin: AdminUser, session: SessionDep, billing: BillingDep
) -> CarePlanRead:
    """Create a care plan (admin; audited), mirrored at Stripe as a Product and a Plan."""
    return await plans.create_plan(session, billing, admin, body)


@router.patch("/api/admin/care-plans/{plan_id}")
async def update_care_plan(
    plan_id: uuid.UUID,
    body: CarePlanUpdate,
    admin: AdminUser,
    session: SessionDep,
    billing: BillingDep,
) -> CarePlanRead:
    """Change a care plan (admin; audited); a new price or interval makes a new Stripe Plan,
    and subscriptions already running keep theirs."""
    return await plans.update_plan(session, billing, admin, plan_id, body)


@router.post("/api/subscriptions", status_code=status.HTTP_201_CREATED)
async def subscribe(
    body: SubscriptionCreate, user: CurrentUser, session: SessionDep, billing: BillingDep
) -> SubscriptionRead:
    """Subscribe to a care plan with a saved card, for a piece you bought or none.

    One live subscription per plan per piece (409 for a second). The card becomes your
    default and is charged now (or after the plan's trial); 402 when it is declined.
    """
    return await service.subscribe(session, billing, user, body)


@router.get("/api/subscriptions")
async def list_subscriptions(user: CurrentUser, session: SessionDep) -> list[SubscriptionRead]:
    """Your care plan subscriptions, newest first."""
    return await service.list_subscriptions(session, user)


@router.post("/api/subscriptions/{subscription_id}/pause")
async def pause_subscription(
    subscription_id: uuid.UUID, user: CurrentUser, session: SessionDep, billing: BillingDep
) -> SubscriptionRead:
    """Pause payments (and the plan's services) until resumed; 409 unless active."""
    return await service.pause(session, billing, user, subscription_id)


@router.post("/api/subscriptions/{subscription_id}/resume")
async def resume_subscription(
    subscription_id: uuid.UUID, user: CurrentUser, session: SessionDep, billing: BillingDep
) -> SubscriptionRead:
    """Resume a paused subscription; 409 unless paused."""
    return await service.resume(session, billing, user, subscription_id)


@router.post("/api/subscriptions/{subscription_id}/cancel")
async def cancel_subscription(
    subscription_id: uuid.UUID, user: CurrentUser, session: SessionDep, billing: BillingDep
) -> SubscriptionRead:
    """Cancel at the end of the period already paid for; 409 once cancelled."""
    return await service.cancel(session, billing, user, subscription_id)


@router.get("/api/admin/subscriptions")
async def staff_list_subscriptions(
    staff: StaffUser,
    session: SessionDep,
    status_filter: SubscriptionStatus | None = Query(None, alias="status"),
    user_id: uuid.UUID | None = Query(None, description="One client's plans."),
    limit: LimitQuery = 50,
) -> list[SubscriptionAdminRead]:
    """Care plan subscriptions for staff, newest first, by status and/or client."""
    return await service.staff_list(session, status_filter, user_id, limit)
