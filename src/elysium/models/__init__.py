"""All ORM tables; importing this package registers every table on `Base.metadata`."""

from elysium.models.analytics import ProductView
from elysium.models.audit import AuditEvent
from elysium.models.bespoke import BespokeEnquiry
from elysium.models.cart import Cart, CartItem, CartReminder, SavedConfiguration, WishlistItem
from elysium.models.catalog import Category, Collection, Product
from elysium.models.consultation import AtelierClosure, Consultation, ConsultationKind
from elysium.models.inventory import StockItem, StockMovement, StockReservation
from elysium.models.jobs import JobError
from elysium.models.notifications import (
    ConsentRecord,
    ContactChannel,
    ContactPreference,
    ContactTopic,
    Notification,
    Priority,
    SentEmail,
)
from elysium.models.order import IdempotencyKey, Order, OrderItem, OrderStatusChange
from elysium.models.payment import Payment, PaymentEvent, Refund
from elysium.models.promotions import Coupon, CouponRedemption
from elysium.models.review import Review
from elysium.models.user import Address, AuthSession, RateEvent, User

__all__ = [
    "Address",
    "AtelierClosure",
    "AuditEvent",
    "AuthSession",
    "BespokeEnquiry",
    "Cart",
    "CartItem",
    "CartReminder",
    "Category",
    "Collection",
    "ConsentRecord",
    "Consultation",
    "ConsultationKind",
    "ContactChannel",
    "ContactPreference",
    "ContactTopic",
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
    "Priority",
    "Product",
    "ProductView",
    "RateEvent",
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
