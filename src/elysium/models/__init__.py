"""All ORM tables; importing this package registers every table on `Base.metadata`."""

from elysium.models.analytics import ProductView, RecentView
from elysium.models.audit import AuditEvent
from elysium.models.bespoke import BespokeEnquiry, BespokeQuote
from elysium.models.cart import Cart, CartItem, CartReminder, SavedConfiguration, WishlistItem
from elysium.models.catalog import Category, Collection, Product
from elysium.models.consultation import AtelierClosure, Consultation, ConsultationKind
from elysium.models.documents import CreditNote, DocumentCounter
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
from elysium.models.order import IdempotencyKey, Order, OrderItem, OrderNote, OrderStatusChange
from elysium.models.payment import Payment, PaymentEvent, Refund
from elysium.models.promotions import Coupon, CouponRedemption
from elysium.models.returns import OrderReturn, OrderReturnLine
from elysium.models.review import Review
from elysium.models.subscription import BillingCustomer, CarePlan, SavedCard, Subscription
from elysium.models.user import (
    AccountToken,
    Address,
    AuthSession,
    RateEvent,
    RecoveryCode,
    User,
    UserIdentity,
)

__all__ = [
    "AccountToken",
    "Address",
    "AtelierClosure",
    "AuditEvent",
    "AuthSession",
    "BespokeEnquiry",
    "BespokeQuote",
    "BillingCustomer",
    "CarePlan",
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
    "CreditNote",
    "DocumentCounter",
    "IdempotencyKey",
    "JobError",
    "Notification",
    "Order",
    "OrderItem",
    "OrderNote",
    "OrderReturn",
    "OrderReturnLine",
    "OrderStatusChange",
    "Payment",
    "PaymentEvent",
    "Priority",
    "Product",
    "ProductView",
    "RateEvent",
    "RecentView",
    "RecoveryCode",
    "Refund",
    "Review",
    "SavedCard",
    "SavedConfiguration",
    "SentEmail",
    "StockItem",
    "StockMovement",
    "StockReservation",
    "Subscription",
    "User",
    "UserIdentity",
    "WishlistItem",
]
