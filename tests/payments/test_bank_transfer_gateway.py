"""BankTransferGateway: instructions instead of a provider, manual refunds, no webhooks."""

from __future__ import annotations

import uuid

import pytest

from elysium.payments.gateway import (
    BankTransferGateway,
    IntentStatus,
    InvalidWebhookSignatureError,
    PaymentGateway,
    PaymentProviderError,
    RefundResult,
)

BANK = {
    "account_name": "Elysium Jewellery Ltd",
    "sort_code": "04-00-04",
    "account_number": "12345678",
    "iban": "GB33BUKB20201555555555",
    "bic": "BUKBGB22",
}


@pytest.fixture
def gateway() -> PaymentGateway:
    return BankTransferGateway(BANK)


async def test_create_payment_gives_instructions_with_the_order_number(
    gateway: PaymentGateway,
) -> None:
    result = await gateway.create_payment(
        uuid.uuid4(), "ELY-2026-000042", 450_050, "gbp", "ada@example.com", "idem-1"
    )

    assert result.provider == "bank_transfer"
    assert (result.intent_id, result.client_secret, result.redirect_url) == (None, None, None)
    assert result.status == IntentStatus.AWAITING_TRANSFER
    assert (result.amount_pence, result.currency) == (450_050, "GBP")
    assert result.instructions == {
        **BANK,
        "amount": "4500.50",
        "currency": "GBP",
        "reference": "ELY-2026-000042",
    }


async def test_refund_is_manual_and_pending(gateway: PaymentGateway) -> None:
    refund = await gateway.refund(None, 12_500, "refund-1", "Customer changed their mind")

    assert refund == RefundResult(refund_id=None, status="pending", amount_pence=12_500)


async def test_refund_amount_must_be_positive(gateway: PaymentGateway) -> None:
    with pytest.raises(ValueError, match="positive"):
        await gateway.refund(None, 0, "refund-2", "zero")


async def test_cancel_is_a_no_op(gateway: PaymentGateway) -> None:
    await gateway.cancel_payment(None)


async def test_nothing_to_retrieve(gateway: PaymentGateway) -> None:
    with pytest.raises(PaymentProviderError) as caught:
        await gateway.retrieve_payment("anything")

    assert caught.value.retryable is False


def test_webhooks_are_refused(gateway: PaymentGateway) -> None:
    with pytest.raises(InvalidWebhookSignatureError):
        gateway.parse_webhook(b"{}", "t=1,v1=abc")


def test_incomplete_bank_details_are_refused() -> None:
    with pytest.raises(ValueError, match="iban, bic"):
        BankTransferGateway({**BANK, "iban": "", "bic": ""})
