"""Background work: periodic housekeeping and the staff's view of the job queue."""
