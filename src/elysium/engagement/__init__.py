"""Engagement: wishlists, recently viewed, reviews and the like."""
