"""All ORM tables; importing this package registers every table on `Base.metadata`."""

from elysium.models.audit import AuditEvent
from elysium.models.catalog import Collection, Product
from elysium.models.user import Address, AuthSession, RateEvent, User

__all__ = ["Address", "AuditEvent", "AuthSession", "Collection", "Product", "RateEvent", "User"]
