"""Who may call what: the one permission table for the JSON API and the back office.

Every operation the app serves is listed here once, with its access level. The route's own
dependencies enforce it (`StaffUser`, `AdminUser`, `CurrentUser`...); tests/security checks
that each route's dependencies match this table, and walks every operation as anonymous, two
customers, staff and admin to check the answers. A new route fails those tests until it is
listed here, which is a one-line change. The OpenAPI document's security requirements and
401/403 answers are derived from this table too.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Access(StrEnum):
    ANYONE = "anyone"  # no sign-in needed (a signed-in caller's own cart, views... when present)
    SIGNED_IN = "signed_in"  # any account, on its own data only (another's is 404)
    STAFF = "staff"  # staff or admin, with two-factor when STAFF_REQUIRE_2FA is on
    ADMIN = "admin"  # admin only
    PROVIDER = "provider"  # webhooks: authenticated by the provider's signature, not a user
    OPERATIONS = "operations"  # health, metrics and the API's own documentation


A, S, ST, AD, P, OPS = (
    Access.ANYONE,
    Access.SIGNED_IN,
    Access.STAFF,
    Access.ADMIN,
    Access.PROVIDER,
    Access.OPERATIONS,
)

PERMISSIONS: dict[str, Access] = {
    # operations
    "GET /health/live": OPS,
    "GET /health/ready": OPS,
    "GET /metrics": OPS,
    "GET /docs": OPS,
    "GET /redoc": OPS,
    "GET /docs/own/swagger-init.js": OPS,
    "GET /docs/own/redoc-init.js": OPS,
    # accounts
    "POST /api/auth/register": A,
    "POST /api/auth/login": A,
    "GET /api/auth/session": S,
    "POST /api/auth/logout": S,
    "PUT /api/auth/password": S,
    "POST /api/auth/2fa/setup": S,
    "POST /api/auth/2fa/enable": S,
    "POST /api/auth/2fa/recovery-codes": S,
    "POST /api/auth/2fa/disable": S,
    "POST /api/admin/users/{user_id}/reset-2fa": AD,
    "PUT /api/admin/users/{user_id}/role": AD,
    "GET /api/admin/users/{user_id}/export": ST,  # staff account exports: admin (in the service)
    "POST /api/auth/password-reset": A,
    "POST /api/auth/password-reset/confirm": A,
    "POST /api/auth/verify-email": S,
    "POST /api/auth/verify-email/confirm": A,
    "PUT /api/user/email": S,
    "GET /api/auth/oauth/google/start": A,
    "GET /api/auth/oauth/google/callback": A,
    "GET /api/user/profile": S,
    "PUT /api/user/profile": S,
    "GET /api/user/addresses": S,
    "POST /api/user/addresses": S,
    "PUT /api/user/addresses/{address_id}": S,
    "DELETE /api/user/addresses/{address_id}": S,
    "GET /api/user/export": S,
    "DELETE /api/user": S,
    # catalogue
    "GET /api/products": A,
    "GET /api/products/{slug}": A,
    "POST /api/products/{slug}/price": A,
    "GET /api/collections": A,
    "POST /api/webhooks/sanity": P,
    # inventory
    "GET /api/inventory/low-stock": ST,
    "POST /api/inventory/reserve": ST,
    "POST /api/inventory/release": ST,
    "GET /api/inventory/{product_slug}": A,
    "GET /api/inventory/{product_slug}/movements": ST,
    "PUT /api/inventory/{product_slug}/{variant_key:path}": ST,
    # notifications and jobs
    "GET /api/notifications": S,
    "POST /api/notifications/read-all": S,
    "POST /api/notifications/{notification_id}/read": S,
    "GET /api/admin/jobs": ST,
    "POST /api/admin/jobs/{job_id}/retry": ST,
    # cart, saved configurations, wishlist, coupons
    "GET /api/cart": A,
    "POST /api/cart": A,
    "PUT /api/cart/{item_id}": A,
    "DELETE /api/cart/coupon": A,
    "DELETE /api/cart/{item_id}": A,
    "DELETE /api/cart": A,
    "POST /api/cart/coupon": A,
    "POST /api/cart/save-configuration": A,
    "GET /api/configurations/{code}": A,
    "GET /api/wishlist": S,
    "POST /api/wishlist": S,
    "DELETE /api/wishlist": S,
    "POST /api/admin/coupons": ST,
    "GET /api/admin/coupons": ST,
    "POST /api/admin/coupons/{coupon_id}/deactivate": ST,
    # checkout, orders, payments
    "POST /api/checkout": S,
    "GET /api/orders": S,
    "GET /api/orders/{order_id}": S,
    "POST /api/orders/{order_id}/pay": S,
    "POST /api/orders/{order_id}/cancel": S,
    "PUT /api/orders/{order_id}/status": ST,
    "POST /api/orders/{order_id}/refund": AD,
    "POST /api/webhooks/stripe": P,
    # after the sale: invoices, credit notes, returns, instalments, bespoke quotes
    "GET /api/orders/{order_id}/invoice": S,
    "GET /api/orders/{order_id}/credit-notes/{number}": S,
    "POST /api/orders/{order_id}/returns": S,
    "GET /api/orders/{order_id}/returns": S,
    "PUT /api/returns/{return_id}": ST,
    "POST /api/orders/{order_id}/payments": ST,
    "POST /api/bespoke/quotes/{quote_id}/accept": A,  # signed in as the client, or the link's token
    "POST /api/bespoke/{enquiry_id}/quotes": ST,
    "GET /api/bespoke/{enquiry_id}/quotes": ST,
    # care plans and saved cards
    "POST /api/user/payment-methods/setup": S,
    "GET /api/user/payment-methods": S,
    "DELETE /api/user/payment-methods/{card_id}": S,
    "PUT /api/user/payment-methods/{card_id}/default": S,
    "GET /api/care-plans": A,
    "POST /api/admin/care-plans": AD,
    "PATCH /api/admin/care-plans/{plan_id}": AD,
    "POST /api/subscriptions": S,
    "GET /api/subscriptions": S,
    "POST /api/subscriptions/{subscription_id}/pause": S,
    "POST /api/subscriptions/{subscription_id}/resume": S,
    "POST /api/subscriptions/{subscription_id}/cancel": S,
    "GET /api/admin/subscriptions": ST,
    # analytics
    "POST /api/analytics/track-view": A,
    "GET /api/analytics/recently-viewed": A,
    "GET /api/analytics/trending": A,
    # bespoke, reviews, consultations
    "POST /api/bespoke": A,
    "GET /api/bespoke": ST,
    "GET /api/bespoke/{enquiry_id}": ST,
    "PATCH /api/bespoke/{enquiry_id}": ST,
    "GET /api/products/{slug}/reviews": A,
    "POST /api/products/{slug}/reviews": S,
    "GET /api/admin/reviews": ST,
    "PATCH /api/admin/reviews/{review_id}": ST,
    "GET /api/consultations/slots": A,
    "GET /api/consultations": S,
    "POST /api/consultations": S,
    "DELETE /api/consultations/{consultation_id}": S,
    "GET /api/admin/consultations": ST,
    "GET /api/consultations/types": A,
    "PATCH /api/consultations/{consultation_id}": S,
    "GET /api/admin/atelier/closures": ST,
    "POST /api/admin/atelier/closures": ST,
    "DELETE /api/admin/atelier/closures/{day}": ST,
    # catalogue tree, contact preferences and the one-click unsubscribe link (signed token)
    "GET /api/categories": A,
    "GET /api/user/contact-preferences": S,
    "PUT /api/user/contact-preferences": S,
    "GET /api/unsubscribe/{token}": A,
    "POST /api/unsubscribe/{token}": A,
    # the back office (HTML): sign-in pages for anyone, every other page for staff
    "GET /admin/login": A,
    "POST /admin/login": A,
    "POST /admin/logout": A,
    "GET /admin": ST,
    "GET /admin/orders": ST,
    "GET /admin/orders/{order_id}": ST,
    "GET /admin/orders/export.csv": ST,
    "GET /admin/orders/{order_id}/packing-slip": ST,
    "POST /admin/orders/{order_id}/mark-paid": ST,
    "POST /admin/orders/{order_id}/fulfil": ST,
    "POST /admin/orders/{order_id}/ship": ST,
    "POST /admin/orders/{order_id}/deliver": ST,
    "POST /admin/orders/{order_id}/cancel": ST,
    "POST /admin/orders/{order_id}/refund": AD,
    "POST /admin/orders/{order_id}/notes": ST,
    "GET /admin/customers": ST,
    "GET /admin/customers/{customer_id}": ST,
    "POST /admin/customers/{customer_id}/suspend": ST,
    "POST /admin/customers/{customer_id}/reactivate": ST,
    "POST /admin/customers/{customer_id}/role": AD,
    "POST /admin/customers/{customer_id}/reset-2fa": AD,
    "POST /admin/customers/{customer_id}/export": ST,
    # two-factor enrolment: staff, with or without two-factor yet (they come here to enrol)
    "GET /admin/two-factor": ST,
    "POST /admin/two-factor/setup": ST,
    "POST /admin/two-factor/enable": ST,
    "POST /admin/two-factor/recovery-codes": ST,
    "POST /admin/two-factor/disable": ST,
    # dashboard, inventory, moderation, calendar, coupons, jobs, audit, reports (and their API)
    "GET /admin/inventory": ST,
    "GET /admin/inventory/{product_slug}": ST,
    "POST /admin/inventory/{product_slug}/adjust": ST,
    "POST /admin/inventory/{product_slug}/threshold": ST,
    "POST /admin/inventory/{product_slug}/hold": ST,
    "POST /admin/inventory/{product_slug}/release": ST,
    "GET /admin/reviews": ST,
    "POST /admin/reviews/{review_id}/approve": ST,
    "POST /admin/reviews/{review_id}/reject": ST,
    "GET /admin/bespoke": ST,
    "GET /admin/bespoke/{enquiry_id}": ST,
    "POST /admin/bespoke/{enquiry_id}": ST,
    "GET /admin/consultations": ST,
    "POST /admin/consultations/{consultation_id}/cancel": ST,
    "POST /admin/consultations/{consultation_id}/reschedule": ST,
    "GET /admin/coupons": ST,
    "POST /admin/coupons": ST,
    "POST /admin/coupons/{coupon_id}/deactivate": ST,
    "GET /admin/jobs": ST,
    "POST /admin/jobs/{job_id}/retry": ST,
    "GET /admin/audit": ST,
    "GET /admin/reports": ST,
    "GET /admin/reports/{table}.csv": ST,
    "POST /api/inventory/threshold": ST,
    "POST /api/admin/consultations/{consultation_id}/cancel": ST,
    "POST /api/admin/consultations/{consultation_id}/reschedule": ST,
    "GET /api/admin/audit": ST,
    "GET /api/admin/reports/sales": ST,
    # the staff JSON API
    "GET /api/admin/orders": ST,
    "GET /api/admin/customers": ST,
    "GET /api/admin/customers/{customer_id}": ST,
    "PATCH /api/admin/customers/{customer_id}": ST,
}


def operation(method: str, path: str) -> str:
    """The table's key for one operation: `GET /api/orders/{order_id}`."""
    return f"{method.upper()} {path}"


# The same table keyed as the OpenAPI document writes paths (`{variant_key}`, not
# `{variant_key:path}`).
_AS_DOCUMENTED = {re.sub(r":\w+}", "}", key): access for key, access in PERMISSIONS.items()}


def access_of(method: str, path: str) -> Access | None:
    """The access level of an operation (route or document path), or None when not listed."""
    key = operation(method, path)
    return PERMISSIONS.get(key) or _AS_DOCUMENTED.get(key)
