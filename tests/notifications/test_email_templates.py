"""Email templates: every one renders in HTML and text, money is exact, user text is escaped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from importlib.resources import files
from typing import Any

import pytest
from jinja2 import UndefinedError

from elysium.notifications.email.message import to_mime
from elysium.notifications.email.templates import (
    TEMPLATE_NAMES,
    UnknownTemplateError,
    check_context,
    format_money,
    render_email,
    render_message,
    required_context,
)

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Mount Street",
    "line2": "Flat 3",
    "city": "London",
    "postal_code": "W1K 2RD",
    "country": "GB",
}
ORDER = {"customer_name": "Ada Lovelace", "order_number": "ELY-2026-000123", "currency": "GBP"}

CONTEXTS: dict[str, dict[str, Any]] = {
    "welcome": {
        "customer_name": "Ada Lovelace",
        "shop_url": "https://elysium.example/collections",
        "account_url": "https://elysium.example/account",
    },
    "password_reset": {
        "customer_name": "Ada Lovelace",
        "reset_url": "https://elysium.example/reset?token=abc",
        "expires_in_minutes": 30,
    },
    "password_changed": {
        "customer_name": "Ada Lovelace",
        "changed_at": datetime(2026, 7, 1, 13, 5, tzinfo=UTC),
        "reset_url": "https://elysium.example/reset",
    },
    "verify_email": {
        "customer_name": "Ada Lovelace",
        "email": "ada@example.com",
        "verify_url": "https://elysium.example/verify-email?token=abc",
        "expires_in_hours": 48,
    },
    "email_changed": {
        "customer_name": "Ada Lovelace",
        "new_email": "ada.new@example.com",
        "changed_at": datetime(2026, 7, 1, 13, 5, tzinfo=UTC),
        "reset_url": "https://elysium.example/reset-password",
    },
    "order_confirmation": {
        **ORDER,
        "lines": [
            {
                "title": "Aurora Solitaire",
                "configuration": {"metal": "platinum", "carat": "1.00", "ring_size": "L"},
                "quantity": 1,
                "unit_price": 450000,
                "line_total": 450000,
            },
            {
                "title": "Silk Pouch",
                "configuration": {},
                "quantity": 2,
                "unit_price": 50,
                "line_total": 100,
            },
        ],
        "subtotal": 450100,
        "discount": 45000,
        "coupon_code": "WELCOME10",
        "shipping": 0,
        "vat": 67517,
        "total": 405100,
        "delivery_address": ADDRESS,
        "order_url": "https://elysium.example/account/orders/1",
    },
    "bank_transfer_instructions": {
        **ORDER,
        "amount": 5000000,
        "pay_by": date(2026, 1, 15),
        "bank": {
            "account_name": "Elysium Jewellery Ltd",
            "bank_name": "Coutts & Co",
            "sort_code": "18-00-02",
            "account_number": "12345678",
            "iban": "GB29NWBK60161331926819",
            "bic": "COUTGB22",
        },
    },
    "payment_received": {
        **ORDER,
        "amount": 450000,
        "order_url": "https://elysium.example/account/orders/1",
    },
    "payment_failed": {
        **ORDER,
        "amount": 450000,
        "reason": "the card was declined",
        "retry_url": "https://elysium.example/checkout/retry",
    },
    "order_shipped": {
        **ORDER,
        "carrier": "Royal Mail Special Delivery",
        "tracking_number": "AB123456789GB",
        "tracking_url": "https://track.example/AB123456789GB",
        "delivery_address": ADDRESS,
    },
    "order_cancelled": {**ORDER, "refund_amount": 450000},
    "refund_issued": {**ORDER, "amount": 50, "reason": "partial refund for engraving"},
    "reservation_expired": {**ORDER, "shop_url": "https://elysium.example/collections"},
    "return_update": {
        **ORDER,
        "headline": "Your return is authorised",
        "message": "Please send the pieces back insured.",
        "return_reference": "RET-1A2B3C4D",
        "status_label": "authorised",
        "lines": [{"title": "Solitaire Ring", "quantity": 1}],
        "note": None,
    },
    "bespoke_quote": {
        "customer_name": "Ada",
        "reference": "BSP-1A2B3C4D",
        "description": "A platinum ring set with a 1.2 ct oval sapphire",
        "price": 1_200_000,
        "deposit": 360_000,
        "balance": 840_000,
        "currency": "GBP",
        "valid_until": date(2026, 12, 31),
        "accept_url": "https://elysium.example/bespoke/quotes/abc",
    },
    "bespoke_enquiry_ack": {
        "customer_name": "Ada Lovelace",
        "enquiry_reference": "BSP-0042",
        "piece_type": "engagement ring",
    },
    "bespoke_enquiry_staff": {
        "enquiry_reference": "BSP-0042",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "phone": "+44 20 7946 0000",
        "piece_type": "engagement ring",
        "budget": 1500000,
        "currency": "GBP",
        "notes": "An emerald-cut sapphire,\nsurrounded by small diamonds.",
        "admin_url": "https://elysium.example/admin/bespoke/42",
    },
    "consultation_confirmed": {
        "customer_name": "Ada Lovelace",
        "starts_at": datetime(2026, 7, 1, 13, 30, tzinfo=UTC),
        "duration_minutes": 60,
        "location": "The ELYSIUM Atelier, Mayfair, London",
        "manage_url": "https://elysium.example/account/consultations/7",
    },
    "consultation_cancelled": {
        "customer_name": "Ada Lovelace",
        "starts_at": datetime(2026, 7, 1, 13, 30, tzinfo=UTC),
        "book_url": "https://elysium.example/account/consultations",
    },
    "consultation_rescheduled": {
        "customer_name": "Ada Lovelace",
        "starts_at": datetime(2026, 7, 2, 9, 0, tzinfo=UTC),
        "previous_starts_at": datetime(2026, 7, 1, 13, 30, tzinfo=UTC),
        "manage_url": "https://elysium.example/account/consultations",
    },
    "consultation_reminder": {
        "customer_name": "Ada Lovelace",
        "kind": "Bridal design",
        "starts_at": datetime(2026, 7, 1, 13, 30, tzinfo=UTC),
        "location": "ELYSIUM Atelier, 14 Albemarle Street, London W1S 4HW",
        "manage_url": "https://elysium.example/account/consultations",
    },
    "consultation_staff": {
        "event": "rescheduled",
        "kind": "Bridal design",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "starts_at": datetime(2026, 7, 2, 9, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 7, 2, 10, 0, tzinfo=UTC),
        "previous_starts_at": datetime(2026, 7, 1, 13, 30, tzinfo=UTC),
        "topic": "Engagement ring",
        "notes": "Prefers platinum.",
    },
    "wishlist_back_in_stock": {
        "customer_name": "Ada Lovelace",
        "product_title": "Aurora Solitaire",
        "price": 395000,
        "currency": "GBP",
        "product_url": "https://elysium.example/products/aurora-solitaire",
        "preferences_url": "https://elysium.example/account/preferences",
    },
    "wishlist_price_drop": {
        "customer_name": "Ada Lovelace",
        "product_title": "Aurora Solitaire",
        "price": 355000,
        "previous_price": 395000,
        "currency": "GBP",
        "product_url": "https://elysium.example/products/aurora-solitaire",
        "preferences_url": "https://elysium.example/account/preferences",
    },
    "cart_reminder": {
        "customer_name": "Ada Lovelace",
        "items": [{"title": "Aurora Solitaire", "quantity": 1}],
        "cart_url": "https://elysium.example/cart",
        "unsubscribe_url": "https://elysium.example/api/unsubscribe/abc",
    },
    "low_stock_digest": {
        "generated_at": datetime(2026, 1, 15, 7, 0, tzinfo=UTC),
        "admin_url": "https://elysium.example/admin/inventory",
        "variants": [
            {
                "product_title": "Aurora Solitaire",
                "product_slug": "aurora-solitaire",
                "variant_key": "carat=1.00;metal=platinum",
                "stock_level": 2,
                "reserved": 1,
                "available": 1,
                "low_stock_threshold": 2,
            },
            {
                "product_title": "Halo Studs",
                "product_slug": "halo-studs",
                "variant_key": "default",
                "stock_level": 0,
                "reserved": 0,
                "available": 0,
                "low_stock_threshold": 1,
            },
        ],
    },
    **{
        name: {
            "customer_name": "Ada Lovelace",
            "plan_name": "Annual Care",
            "amount": 24_000,
            "currency": "GBP",
            "next_renewal": datetime(2027, 1, 15, 9, 0, tzinfo=UTC),
            "subscriptions_url": "https://elysium.example/account/care-plans",
            "update_card_url": "https://elysium.example/account/payment-methods",
        }
        for name in (
            "care_plan_started",
            "care_plan_renewed",
            "care_plan_payment_failed",
            "care_plan_renewal_reminder",
        )
    },
}


def test_every_template_has_a_context_and_files() -> None:
    folder = files("elysium.notifications.email").joinpath("templates")
    on_disk = {p.name.rsplit(".", 1)[0] for p in folder.iterdir() if not p.name.startswith("_")}
    assert on_disk == set(TEMPLATE_NAMES) == set(CONTEXTS)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_renders_html_and_text(name: str) -> None:
    rendered = render_email(name, CONTEXTS[name])

    assert rendered.subject
    assert "\n" not in rendered.subject
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert f"<title>{rendered.subject.replace('&', '&amp;')}</title>" in rendered.html
    assert "ELYSIUM" in rendered.text
    assert "<" not in rendered.text.replace("<script>", "")  # no markup leaks into text
    assert "\n\n\n" not in rendered.text


def test_order_confirmation_shows_lines_and_totals() -> None:
    rendered = render_email("order_confirmation", CONTEXTS["order_confirmation"])

    assert rendered.subject == "Your ELYSIUM order ELY-2026-000123"
    for body in (rendered.html, rendered.text):
        assert "Aurora Solitaire" in body
        assert "Ring size: L" in body
        assert "£4,500.00" in body  # unit price and line total
        assert "£0.50" in body
        assert "£4,501.00" in body  # subtotal
        assert "-£450.00" in body  # discount
        assert "WELCOME10" in body
        assert "Complimentary" in body  # free shipping
        assert "£675.17" in body  # VAT part
        assert "£4,051.00" in body  # total
        assert "W1K 2RD" in body
        assert "Flat 3" in body


def test_bank_transfer_uses_order_number_as_reference() -> None:
    rendered = render_email("bank_transfer_instructions", CONTEXTS["bank_transfer_instructions"])

    assert "Reference: ELY-2026-000123" in rendered.text
    assert "£50,000.00" in rendered.text
    assert "£50,000.00" in rendered.html
    assert "15 January 2026" in rendered.text
    assert "Coutts &amp; Co" in rendered.html
    assert "Coutts & Co" in rendered.text


def test_optional_keys_may_be_left_out() -> None:
    context = dict(CONTEXTS["bank_transfer_instructions"])
    context["bank"] = {k: v for k, v in context["bank"].items() if k not in ("iban", "bic")}
    assert "IBAN" not in render_email("bank_transfer_instructions", context).text

    staff = {k: v for k, v in CONTEXTS["bespoke_enquiry_staff"].items() if k != "budget"}
    assert "Budget: not given" in render_email("bespoke_enquiry_staff", staff).text

    shipped = {k: v for k, v in CONTEXTS["order_shipped"].items() if k != "tracking_url"}
    assert "Track your parcel" not in render_email("order_shipped", shipped).html


def test_consultation_time_is_london_wall_time() -> None:
    rendered = render_email("consultation_confirmed", CONTEXTS["consultation_confirmed"])

    # 13:30 UTC on 1 July is 14:30 British Summer Time.
    assert "Wednesday 1 July 2026, 14:30 BST" in rendered.text
    assert rendered.subject == "Your ELYSIUM consultation on 1 July 2026"


def test_consultation_cancellation_names_the_slot_in_london_time() -> None:
    rendered = render_email("consultation_cancelled", CONTEXTS["consultation_cancelled"])

    assert rendered.subject == "Your ELYSIUM consultation on 1 July 2026 is cancelled"
    for body in (rendered.html, rendered.text):
        assert "Wednesday 1 July 2026, 14:30 BST" in body
        assert "https://elysium.example/account/consultations" in body


def test_low_stock_digest_lists_every_variant() -> None:
    rendered = render_email("low_stock_digest", CONTEXTS["low_stock_digest"])

    assert rendered.subject == "Low stock: 2 variants at or below threshold"
    for body in (rendered.html, rendered.text):
        assert "carat=1.00;metal=platinum" in body
        assert "halo-studs" in body


@pytest.mark.parametrize(
    ("pence", "currency", "expected"),
    [
        (450000, "GBP", "£4,500.00"),
        (50, "GBP", "£0.50"),
        (5000000, "GBP", "£50,000.00"),
        (0, "GBP", "£0.00"),
        (7, "GBP", "£0.07"),
        (-45000, "GBP", "-£450.00"),
        (123456789012, "GBP", "£1,234,567,890.12"),
        (450000, "EUR", "EUR 4,500.00"),
    ],
)
def test_money_formatting(pence: int, currency: str, expected: str) -> None:
    assert format_money(pence, currency) == expected


@pytest.mark.parametrize("bad", [45.5, "4500", True, None])
def test_money_refuses_anything_but_integer_pence(bad: object) -> None:
    with pytest.raises(TypeError):
        format_money(bad)


def test_money_refuses_a_bad_currency() -> None:
    with pytest.raises(ValueError, match="currency"):
        format_money(100, "pounds")


def test_hostile_customer_text_is_escaped_in_html() -> None:
    hostile = '<script>alert("x")</script>'
    context = {**CONTEXTS["order_confirmation"], "customer_name": hostile}
    context["delivery_address"] = {**ADDRESS, "name": hostile}
    context["lines"] = [{**context["lines"][0], "title": "<img src=x onerror=alert(1)>"}]

    rendered = render_email("order_confirmation", context)

    assert "<script>" not in rendered.html
    assert "<img" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in rendered.html
    assert hostile in rendered.text  # plain text is not HTML: left as written


def test_hostile_text_cannot_inject_headers_through_the_subject() -> None:
    context = {**CONTEXTS["bespoke_enquiry_staff"], "piece_type": "ring\r\nBcc: evil@example.com"}

    rendered = render_email("bespoke_enquiry_staff", context)

    assert rendered.subject == "New bespoke enquiry BSP-0042: ring Bcc: evil@example.com"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_missing_context_fails_loudly(name: str) -> None:
    with pytest.raises(UndefinedError):
        render_email(name, {})


def test_missing_nested_key_fails_loudly() -> None:
    context = dict(CONTEXTS["order_confirmation"])
    context["delivery_address"] = {k: v for k, v in ADDRESS.items() if k != "postal_code"}

    with pytest.raises(UndefinedError, match="postal_code"):
        render_email("order_confirmation", context)


def test_unknown_template_is_a_clear_error() -> None:
    with pytest.raises(UnknownTemplateError, match=r"no email template 'nope'.*welcome"):
        render_email("nope", {})


def test_naive_datetime_is_refused() -> None:
    context = {**CONTEXTS["consultation_confirmed"], "starts_at": datetime(2026, 7, 1, 13, 30)}

    with pytest.raises(ValueError, match="timezone-aware"):
        render_email("consultation_confirmed", context)


def test_render_message_builds_a_sendable_mime_message() -> None:
    message = render_message(
        "payment_received",
        CONTEXTS["payment_received"],
        to="ada@example.com",
        from_addr="ELYSIUM <atelier@elysium.example>",
        idempotency_key="payment-received/ELY-2026-000123",
    )

    parsed = message_from_bytes(to_mime(message).as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Payment received for order ELY-2026-000123"
    assert message.tags == {"template": "payment_received"}
    plain = parsed.get_body(("plain",))
    assert isinstance(plain, MimeMessage)
    assert "£4,500.00" in plain.get_content()


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_the_context_check_names_exactly_what_rendering_needs(name: str) -> None:
    """`check_context` (run when an email is queued) agrees with rendering, key by key."""
    required = required_context(name)
    check_context(name, CONTEXTS[name])
    only_required = {key: CONTEXTS[name][key] for key in required}
    render_email(name, only_required)  # nothing else is needed
    for key in required:
        partial = {k: v for k, v in CONTEXTS[name].items() if k != key}
        with pytest.raises(UndefinedError):
            check_context(name, partial)
        with pytest.raises(UndefinedError):
            render_email(name, partial)


def test_the_context_check_refuses_an_unknown_template() -> None:
    with pytest.raises(UnknownTemplateError):
        check_context("nope", {})
