"""The background worker: the tasks the huey queue runs, and periodic maintenance."""
