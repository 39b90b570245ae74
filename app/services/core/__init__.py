"""Core: the database and its tables, object storage, the job queue, logs, rate limits, errors."""
