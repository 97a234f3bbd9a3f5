"""Product reviews: written by customers, moderated by staff."""
