"""Product views: tracking, recently viewed and trending pieces."""
