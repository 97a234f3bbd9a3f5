"""Transactional email templates: Jinja2, HTML and plain text, subject from the text template.

Each email is `templates/<name>.html` plus `templates/<name>.txt`; the text template defines
`{% block subject %}`. Amounts in a context are integer minor units (pence) with a `currency`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Final

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    Undefined,
    UndefinedError,
    meta,
    nodes,
    select_autoescape,
)

from elysium.kit.clock import SHOP_TZ
from elysium.notifications.email.message import Attachment, EmailMessage

TEMPLATE_NAMES: Final = (
    "welcome",
    "password_reset",
    "password_changed",
    "verify_email",
    "email_changed",
    "order_confirmation",
    "bank_transfer_instructions",
    "payment_received",
    "payment_failed",
    "order_shipped",
    "order_cancelled",
    "refund_issued",
    "return_update",
    "bespoke_quote",
    "reservation_expired",
    "bespoke_enquiry_ack",
    "bespoke_enquiry_staff",
    "consultation_confirmed",
    "consultation_cancelled",
    "consultation_rescheduled",
    "consultation_reminder",
    "consultation_staff",
    "wishlist_back_in_stock",
    "wishlist_price_drop",
    "cart_reminder",
    "low_stock_digest",
    "care_plan_started",
    "care_plan_renewed",
    "care_plan_payment_failed",
    "care_plan_renewal_reminder",
)

_CURRENCY_SYMBOLS: Final = {"GBP": "£"}
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


class UnknownTemplateError(LookupError):
    """No email template has that name."""


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """A rendered email: one-line subject, HTML and plain-text bodies."""

    subject: str
    html: str
    text: str


def _require_defined(value: object) -> None:
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the missing variable
        raise TypeError("a value is undefined")


def format_money(pence: object, currency: object = "GBP") -> str:
    """`450000, "GBP"` -> `£4,500.00`; other currencies by code: `EUR 4,500.00`. Exact."""
    _require_defined(pence)
    _require_defined(currency)
    if isinstance(pence, bool) or not isinstance(pence, int):
        raise TypeError(f"money needs integer minor units, not {type(pence).__name__}")
    if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency):
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    whole, minor = divmod(abs(pence), 100)
    sign = "-" if pence < 0 else ""
    amount = f"{whole:,}.{minor:02d}"
    symbol = _CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{currency} {amount}"


def _aware_in_london(value: object) -> datetime:
    _require_defined(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"need a timezone-aware datetime, got {value!r}")
    return value.astimezone(SHOP_TZ)


def format_london_datetime(value: object) -> str:
    """An aware datetime as London wall time: `Thursday 15 January 2026, 14:30 GMT`."""
    local = _aware_in_london(value)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"


def format_long_date(value: object) -> str:
    """A date (or an aware datetime, taken in London) as `15 January 2026`."""
    _require_defined(value)
    if isinstance(value, datetime):
        value = _aware_in_london(value).date()
    if not isinstance(value, date):
        raise TypeError(f"need a date, got {value!r}")
    return f"{value.day} {value:%B %Y}"


def format_option_name(value: object) -> str:
    """`ring_size` -> `Ring size`."""
    _require_defined(value)
    return str(value).replace("_", " ").capitalize()


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("elysium.notifications.email", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["london_datetime"] = format_london_datetime
    env.filters["long_date"] = format_long_date
    env.filters["option_name"] = format_option_name
    return env


def _render_subject(template: Template, context: Mapping[str, Any]) -> str:
    block = template.blocks.get("subject")
    if block is None:
        raise LookupError(f"{template.name} has no subject block")
    subject = "".join(block(template.new_context(dict(context))))
    return " ".join(subject.split())  # one line: no header injection from user text


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _require_known(template: str) -> None:
    if template not in TEMPLATE_NAMES:
        known = ", ".join(TEMPLATE_NAMES)
        raise UnknownTemplateError(f"no email template {template!r}; known: {known}")


def _variables_of(env: Environment, file_name: str) -> set[str]:
    """Top-level names a template file (and the files it extends or imports) needs; a name
    tested with `is defined` is optional."""
    assert env.loader is not None
    source = env.loader.get_source(env, file_name)[0]
    tree = env.parse(source)
    optional = {
        test.node.name
        for test in tree.find_all(nodes.Test)
        if test.name == "defined" and isinstance(test.node, nodes.Name)
    }
    declared = {i.target for i in tree.find_all(nodes.Import)} | {
        a.target.name for a in tree.find_all(nodes.Assign) if isinstance(a.target, nodes.Name)
    }
    names = set(meta.find_undeclared_variables(tree)) - optional - declared
    for referenced in meta.find_referenced_templates(tree):
        if referenced is not None:
            names |= _variables_of(env, referenced)
    return names


@cache
def required_context(template: str) -> frozenset[str]:
    """The context keys an email template needs (its HTML and text files, with their bases)."""
    _require_known(template)
    env = _environment()
    names = _variables_of(env, f"{template}.html") | _variables_of(env, f"{template}.txt")
    return frozenset(names - set(env.globals) - {"subject"})


def check_context(template: str, context: Mapping[str, Any]) -> None:
    """Fail fast, without rendering, on an unknown template or a missing context key.

    Raises UnknownTemplateError or UndefinedError, as rendering would.
    """
    missing = sorted(required_context(template) - context.keys())
    if missing:
        raise UndefinedError(f"{template}: {', '.join(map(repr, missing))} is undefined")


def render_email(template: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render one email; raises UnknownTemplateError, or UndefinedError for missing context."""
    _require_known(template)
    env = _environment()
    text_template = env.get_template(f"{template}.txt")
    subject = _render_subject(text_template, context)
    full = {**context, "subject": subject}
    html = env.get_template(f"{template}.html").render(full)
    return RenderedEmail(subject=subject, html=html, text=_tidy_text(text_template.render(full)))


def render_message(
    template: str,
    context: Mapping[str, Any],
    *,
    to: str,
    from_addr: str,
    idempotency_key: str,
    reply_to: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> EmailMessage:
    """Render a template into a ready-to-send message, tagged with the template name."""
    rendered = render_email(template, context)
    return EmailMessage(
        to=to,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        from_addr=from_addr,
        idempotency_key=idempotency_key,
        reply_to=reply_to,
        tags={"template": template},
        attachments=attachments,
    )
