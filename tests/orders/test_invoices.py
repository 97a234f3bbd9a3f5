"""VAT invoices and credit notes: gapless numbers, PDFs read back as text, the emailed copy."""

from __future__ import annotations

import asyncio
import io
import re
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from pypdf import PdfReader

from elysium.config import Settings
from factories import (
    CUSTOMER_NAME,
    Account,
    Shopper,
    add_address,
    checkout,
    placed_order,
    shopper,
    stocked_piece,
)
from job_helpers import run_jobs

INVOICE = re.compile(r"INV-(\d{4})-(\d{6})")


def pdf_text(response: Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


async def _paid(client: AsyncClient, staff: Account, order_id: str) -> dict[str, Any]:
    url = f"/api/orders/{order_id}/status"
    response = await client.put(url, json={"status": "PAID"}, headers=staff.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _order(app: FastAPI, client: AsyncClient, **extra: Any) -> tuple[Shopper, dict[str, Any]]:
    product = await stocked_piece(app, level=10)
    who = await shopper(app, client, product)
    response = await checkout(client, who, **extra)
    assert response.status_code == 201, response.text
    return who, response.json()["order"]


async def test_a_paid_order_has_a_vat_invoice_as_pdf(
    app: FastAPI, client: AsyncClient, staff: Account, settings: Settings
) -> None:
    who, order = await _order(app, client, gift_message="Happy anniversary, my love")
    url = f"/api/orders/{order['id']}/invoice"
    assert order["invoice_number"] is None
    assert (await client.get(url, headers=who.headers)).status_code == 404
    paid = await _paid(client, staff, order["id"])
    number = paid["invoice_number"]
    assert INVOICE.fullmatch(number)
    text = pdf_text(await client.get(url, headers=who.headers))
    for expected in (
        "VAT invoice",
        settings.seller_name,
        settings.seller_address,
        f"VAT registration number: {settings.seller_vat_number}",
        number,
        "Tax point",
        CUSTOMER_NAME,
        "1 Bond Street",
        order["order_number"],
        order["items"][0]["title"],
        "£2,000.00",  # net
        "20%",
        "£400.00",  # VAT
        "£2,400.00",  # gross
        "Total VAT: £400.00",
        "Total: £2,400.00",
    ):
        assert expected in text, expected
    assert "Zero-rated" not in text
    assert "anniversary" not in text  # the gift message is for the packing slip only
    assert pdf_text(await client.get(url, headers=staff.headers)) == text
    stranger = await shopper(app, client)
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401


async def test_an_export_invoice_says_zero_rated(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    paris = await add_address(client, who.account, country="FR")
    response = await checkout(client, who, shipping_address_id=paris)
    order = response.json()["order"]
    await _paid(client, staff, order["id"])
    text = pdf_text(await client.get(f"/api/orders/{order['id']}/invoice", headers=who.headers))
    assert "Zero-rated export" in text
    assert "0%" in text
    assert "Total VAT: £0.00" in text
    assert "Total: £2,079.17" in text
    assert "Rue de la Paix" in text


async def test_gift_messages_are_at_most_300_characters_and_shown_on_the_order(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    too_long = await checkout(client, who, gift_message="x" * 301)
    assert too_long.status_code == 422
    order = (await checkout(client, who, gift_message="  With love  ")).json()["order"]
    seen = (await client.get(f"/api/orders/{order['id']}", headers=staff.headers)).json()
    assert seen["gift_message"] == "With love"


async def test_orders_paid_at_once_take_consecutive_numbers(
    app: FastAPI, client: AsyncClient, staff: Account
) -> None:
    orders = [(await _order(app, client))[1] for _ in range(6)]
    paid = await asyncio.gather(*(_paid(client, staff, o["id"]) for o in orders))
    numbers = sorted(int(INVOICE.fullmatch(p["invoice_number"]).group(2)) for p in paid)  # type: ignore[union-attr]
    assert numbers == list(range(numbers[0], numbers[0] + 6))
    assert numbers[0] == 1  # the first invoice of the year in this database: no gap before it


async def test_a_refund_gets_a_credit_note_referring_to_the_invoice(
    app: FastAPI, client: AsyncClient, staff: Account, admin: Account
) -> None:
    who, order = await _order(app, client)
    invoice = (await _paid(client, staff, order["id"]))["invoice_number"]
    refund = await client.post(
        f"/api/orders/{order['id']}/refund",
        json={"amount": {"amount": "600.00", "currency": "GBP"}, "reason": "Goodwill"},
        headers=admin.headers | {"Idempotency-Key": "crn-1"},
    )
    assert refund.status_code == 201, refund.text
    seen = (await client.get(f"/api/orders/{order['id']}", headers=who.headers)).json()
    [note] = seen["credit_notes"]
    assert re.fullmatch(r"CRN-\d{4}-\d{6}", note["number"])
    assert (note["invoice_number"], note["amount"]["amount"], note["vat"]["amount"]) == (
        invoice,
        "600.00",
        "100.00",
    )
    text = pdf_text(await client.get(note["url"], headers=who.headers))
    for expected in ("VAT credit note", note["number"], invoice, "Goodwill", "-£600.00"):
        assert expected in text, expected
    missing = f"/api/orders/{order['id']}/credit-notes/CRN-2000-000001"
    assert (await client.get(missing, headers=who.headers)).status_code == 404


def _outbox_attachments(settings: Settings, to: str) -> list[tuple[str | None, str, Any]]:
    attached = []
    for path in sorted(Path(settings.email_outbox_dir).glob("*.eml")):
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, MimeMessage)
        if parsed["To"] != to:
            continue
        for part in parsed.iter_attachments():
            assert isinstance(part, MimeMessage)
            attached.append((part.get_filename(), part.get_content_type(), part.get_content()))
    return attached


async def test_the_confirmation_email_carries_the_invoice(
    app: FastAPI, client: AsyncClient, staff: Account, settings: Settings
) -> None:
    who, order = await _order(app, client)
    number = (await _paid(client, staff, order["id"]))["invoice_number"]
    await run_jobs()
    attached = _outbox_attachments(settings, who.account.email)
    [(filename, content_type, content)] = attached
    assert (filename, content_type) == (f"{number}.pdf", "application/pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert number in text


async def test_an_unpaid_order_lists_no_invoice(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    who = await shopper(app, client, product)
    order = await placed_order(client, who)
    assert (order["invoice_number"], order["credit_notes"], order["returns"]) == (None, [], [])
    assert order["items"][0]["id"]
