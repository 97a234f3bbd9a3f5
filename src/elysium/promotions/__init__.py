"""Coupons: discounts, their limits and their use at checkout."""
