"""Sales and funnel figures for the back office: read-only sums over orders, refunds and views."""
