"""Email notifications: an outbox written in the caller's transaction, sent by the job queue."""
