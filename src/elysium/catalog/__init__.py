"""Catalogue: products and collections synced from Sanity, and the price engine."""
