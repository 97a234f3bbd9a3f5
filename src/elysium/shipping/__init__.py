"""Shipping: the methods offered and what each costs."""
