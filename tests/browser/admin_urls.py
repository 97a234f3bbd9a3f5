"""Every /admin URL, for the test that a customer and an anonymous visitor are refused on each.

Add new back-office URLs here (part B of the back office adds its own). `{order_id}` and
`{customer_id}` are filled with a real order and account; POST URLs are sent with a valid CSRF
token, so the refusal comes from the staff rule, not the token check.
"""

from __future__ import annotations

ADMIN_GET_URLS: list[str] = [
    "/admin/orders",
    "/admin/orders?q=EL&status=PENDING",
    "/admin/orders/export.csv",
    "/admin/orders/{order_id}",
    "/admin/orders/{order_id}/packing-slip",
    "/admin/customers",
    "/admin/customers?q=client",
    "/admin/customers/{customer_id}",
    "/admin/two-factor",
]

ADMIN_POST_URLS: list[str] = [
    "/admin/orders/{order_id}/mark-paid",
    "/admin/orders/{order_id}/fulfil",
    "/admin/orders/{order_id}/ship",
    "/admin/orders/{order_id}/deliver",
    "/admin/orders/{order_id}/cancel",
    "/admin/orders/{order_id}/refund",
    "/admin/orders/{order_id}/notes",
    "/admin/customers/{customer_id}/suspend",
    "/admin/customers/{customer_id}/reactivate",
    "/admin/customers/{customer_id}/role",
    "/admin/customers/{customer_id}/reset-2fa",
    "/admin/customers/{customer_id}/export",
    "/admin/two-factor/setup",
    "/admin/two-factor/enable",
    "/admin/two-factor/recovery-codes",
    "/admin/two-factor/disable",
]
