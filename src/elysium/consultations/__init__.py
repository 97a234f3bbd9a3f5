"""Atelier consultations: free slots from the opening hours, bookings, cancellations."""
