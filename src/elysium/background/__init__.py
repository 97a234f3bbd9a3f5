"""Background work: periodic jobs that span domains and the staff's view of the job queue."""
