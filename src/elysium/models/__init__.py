"""All ORM tables; importing this package registers every table on `Base.metadata`."""

from elysium.models.analytics import ProductView, RecentView
from elysium.models.audit import AuditEvent
from elysium.models.bespoke import BespokeEnquiry
from elysium.models.cart import Cart, CartItem, SavedConfiguration, WishlistItem
from elysium.models.catalog import Collection, Product
from elysium.models.consultation import Consultation
from elysium.models.inventory import StockItem, StockMovement, StockReservation
from elysium.models.jobs import JobError
from elysium.models.notifications import Notification, SentEmail
from elysium.models.order import IdempotencyKey, Order, OrderItem, OrderStatusChange
from elysium.models.payment import Payment, PaymentEvent, Refund
from elysium.models.promotions import Coupon, CouponRedemption
from elysium.models.review import Review
from elysium.models.user import Address, AuthSession, RateEvent, User

__all__ = [
    "Address",
    "AuditEvent",
    "AuthSession",
    "BespokeEnquiry",
    "Cart",
    "CartItem",
    "Collection",
    "Consultation",
    "Coupon",
    "CouponRedemption",
    "IdempotencyKey",
    "JobError",
    "Notification",
    "Order",
    "OrderItem",
    "OrderStatusChange",
    "Payment",
    "PaymentEvent",
    "Product",
    "ProductView",
    "RateEvent",
    "RecentView",
    "Refund",
    "Review",
    "SavedConfiguration",
    "SentEmail",
    "StockItem",
    "StockMovement",
    "StockReservation",
    "User",
    "WishlistItem",
]
