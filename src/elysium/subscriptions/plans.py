"""Care plans: created and changed by admins, mirrored at the provider (a Product and a
recurring Plan/Price), listed publicly while active.

The provider is asked first; the row is written only once it has answered, so a failure
writes nothing. A price is immutable at the provider: a new price or interval makes a new
Plan and retires the old one (subscriptions already on it carry on).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.audit.service import record_event
from elysium.errors import NotFoundError
from elysium.kit.money import Money
from elysium.models import CarePlan, User
from elysium.payments.billing import BillingGateway
from elysium.subscriptions.schemas import CarePlanCreate, CarePlanRead, CarePlanUpdate


def plan_read(plan: CarePlan) -> CarePlanRead:
    return CarePlanRead(
        id=plan.id,
        name=plan.name,
        description=plan.description,
        price=Money.from_pence(plan.price_pence, plan.currency),
        interval=plan.interval,
        trial_days=plan.trial_days,
        benefits=list(plan.benefits),
        active=plan.active,
    )


async def list_active_plans(session: AsyncSession) -> list[CarePlanRead]:
    """The plans on sale, cheapest first."""
    plans = await session.scalars(
        select(CarePlan)
        .where(CarePlan.active, CarePlan.provider_price_id.is_not(None))
        .order_by(CarePlan.price_pence, CarePlan.name)
    )
    return [plan_read(plan) for plan in plans]


async def get_plan(session: AsyncSession, plan_id: uuid.UUID) -> CarePlan:
    plan = await session.get(CarePlan, plan_id)
    if plan is None:
        raise NotFoundError("No such care plan.")
    return plan


async def create_plan(
    session: AsyncSession, gateway: BillingGateway, admin: User, data: CarePlanCreate
) -> CarePlanRead:
    """A new plan, its Product and Price made at the provider first (keys from its new id)."""
    plan_id = uuid.uuid4()
    price_pence = data.price.to_pence()
    product_id = await gateway.save_plan_product(
        None, data.name, data.description, data.active, f"care-plan-{plan_id}-product"
    )
    price_id = await gateway.create_plan_price(
        product_id, price_pence, "GBP", data.interval, plan_id, f"care-plan-{plan_id}-price-0"
    )
    plan = CarePlan(
        id=plan_id,
        name=data.name,
        description=data.description,
        price_pence=price_pence,
        currency="GBP",
        interval=data.interval,
        trial_days=data.trial_days,
        benefits=list(data.benefits),
        active=data.active,
        provider_product_id=product_id,
        provider_price_id=price_id,
    )
    session.add(plan)
    await session.flush()
    await _audit(session, admin, plan, "care_plan.created")
    return plan_read(plan)


async def update_plan(
    session: AsyncSession,
    gateway: BillingGateway,
    admin: User,
    plan_id: uuid.UUID,
    data: CarePlanUpdate,
) -> CarePlanRead:
    """Change a plan: its Product at the provider, and a new Price when the price or interval
    changes; then the row."""
    plan = await get_plan(session, plan_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    name, description = changes.get("name", plan.name), changes.get("description", plan.description)
    active = changes.get("active", plan.active)
    price_pence = data.price.to_pence() if data.price is not None else plan.price_pence
    interval = data.interval or plan.interval
    product_id = await gateway.save_plan_product(
        plan.provider_product_id, name, description, active, f"care-plan-{plan.id}-product"
    )
    price_id = plan.provider_price_id
    if price_id is None or (price_pence, interval) != (plan.price_pence, plan.interval):
        key = f"care-plan-{plan.id}-price-{price_pence}-{interval}-{uuid.uuid4()}"
        price_id = await gateway.create_plan_price(
            product_id, price_pence, plan.currency, interval, plan.id, key
        )
        if plan.provider_price_id is not None:
            await gateway.retire_plan_price(plan.provider_price_id)
    plan.name, plan.description, plan.active = name, description, active
    plan.price_pence, plan.interval = price_pence, interval
    plan.trial_days = changes.get("trial_days", plan.trial_days)
    plan.benefits = list(changes.get("benefits", plan.benefits))
    plan.provider_product_id, plan.provider_price_id = product_id, price_id
    await session.flush()
    await _audit(session, admin, plan, "care_plan.updated")
    return plan_read(plan)


async def _audit(session: AsyncSession, admin: User, plan: CarePlan, action: str) -> None:
    await record_event(
        session,
        action,
        actor_id=admin.id,
        target_type="care_plan",
        target_id=plan.id,
        details={"price_pence": plan.price_pence, "interval": plan.interval, "active": plan.active},
    )
