"""Bespoke commissions: enquiries from clients, followed up by the atelier."""
