"""Care plans: saved cards, plans mirrored at the card provider, and subscriptions to them."""
