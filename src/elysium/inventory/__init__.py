"""Inventory: stock per variant, reservations that never oversell, and the movement ledger."""
