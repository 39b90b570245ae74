"""When an email that failed for a temporary reason is tried again.

After the first failed attempt the next waits 1 min, then 5 min, 30 min, 2 h and 6 h; an email
whose sixth attempt fails too (about 8.5 hours after the first) ends "failed". A permanent
rejection (a 5xx answer) fails at once.
"""

from __future__ import annotations

from datetime import timedelta

RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def retry_delay(failed_attempts: int) -> timedelta | None:
    """The wait after `failed_attempts` attempts (1 = the first); None once they are used up."""
    if failed_attempts < 1 or failed_attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failed_attempts - 1]
