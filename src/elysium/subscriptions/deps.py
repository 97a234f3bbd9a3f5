"""The billing side of the app's payment gateway as a dependency (409 when the configured
provider cannot keep cards)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from elysium.payments.billing import BillingGateway, billing_gateway
from elysium.payments.deps import GatewayDep


async def app_billing(gateway: GatewayDep) -> BillingGateway:
    return billing_gateway(gateway)


BillingDep = Annotated[BillingGateway, Depends(app_billing)]
