"""When a failed delivery is tried again: the Standard Webhooks specification's example schedule.

The first attempt is at once; after each failure the next waits 5 s, 5 min, 30 min, 2 h, 5 h,
10 h, 10 h; a delivery that failed all eight attempts (about 28 hours) ends failed. An endpoint
failing for FAILING_LIMIT without a single success is disabled.
"""

from __future__ import annotations

from datetime import timedelta

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
FAILING_LIMIT = timedelta(days=5)


def retry_delay(failed_attempts: int, *, scale: float = 1.0) -> timedelta | None:
    """The wait before the next attempt after `failed_attempts` attempts (1 = the first);
    None once they are used up. `scale` shortens the schedule for benchmarks only."""
    if failed_attempts < 1 or failed_attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failed_attempts - 1] * scale
