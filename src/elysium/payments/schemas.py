"""What the payments domain answers: the storefront's view of a started payment."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PaymentRead(BaseModel):
    """What the storefront needs to take the payment."""

    provider: str
    status: str = Field(description="The provider's own status of the payment.")
    client_secret: str | None = None
    payment_intent_id: str | None = None
    redirect_url: str | None = None
    instructions: dict[str, str] | None = None
    retry_url: str | None = Field(
        default=None, description="Set when the provider could not be reached: POST to retry."
    )
