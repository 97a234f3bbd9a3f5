"""Carts (guests and users), read-time pricing and saved shareable configurations."""
