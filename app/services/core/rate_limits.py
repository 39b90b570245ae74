"""Rate limits per user, per client address and per email, with the `limits` library.

Counters live in Redis when REDIS_URL is set (shared by every worker), else in this process's
memory. Each named policy limits one or more scopes, and `check` enforces all of them at once:

    check("analyze", user=user.id, ip=client_host)  # TooManyAttemptsError when exceeded
    check_rule("upload:free", Policy({"project": plan.upload_rate}), project=project.id)
    await acheck("sign_in", ip=client_ip, email=email)  # the same, off the event loop

The table is a module-level default that deployments and tests replace through `set_policy`
and restore with `reset_policies`. Counters follow the settings object: `reset_settings()`
(which every test does) starts from empty counters.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
from limits.errors import StorageError as LimitsStorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.services.core.errors import TooManyAttemptsError
from app.services.core.logs import get_logger
from app.settings import Settings, get_settings

log = get_logger("rate_limits")

SCOPES = ("user", "ip", "email", "project")


@dataclass(frozen=True)
class Policy:
    """Limits per scope, in `limits` notation ("10/minute", "10/minute;100/hour")."""

    limits: dict[str, str]
    message: str = "Too many requests. Try again in {wait}."

    def items(self, scope: str) -> list[RateLimitItem]:
        return parse_many(self.limits[scope])


DEFAULT_POLICIES: dict[str, Policy] = {
    "sign_in": Policy(
        {"ip": "10/minute", "email": "10/minute"},
        "Too many sign-in attempts. Try again in {wait}.",
    ),
    # New accounts get the free plan's credits: a cap on how fast one address can make them.
    "sign_up": Policy(
        {"ip": "20/minute;100/hour"}, "Too many new accounts from here. Try again in {wait}."
    ),
    # The Google redirect flow: start and callback each count once per sign-in.
    "google_sign_in": Policy(
        {"ip": "20/minute"}, "Too many sign-in attempts. Try again in {wait}."
    ),
    "analyze": Policy(
        {"user": "30/minute", "ip": "60/minute"},
        "You're starting analyses faster than we allow. Try again in {wait}.",
    ),
    # The signed-out live demo on the landing page: real CPU work for anyone, so kept small.
    "demo": Policy(
        {"ip": "5/minute;40/day"},
        "The live demo takes a few images a minute. Try again in {wait}, "
        "or sign up free to keep going and save your prompts.",
    ),
    "updates_signup": Policy(
        {"ip": "10/hour"}, "Too many sign-ups from here. Try again in {wait}."
    ),
    "paid": Policy(
        {"user": "60/minute"}, "Too many paid requests in a short time. Try again in {wait}."
    ),
}

_policies: dict[str, Policy] = dict(DEFAULT_POLICIES)
_lock = threading.Lock()
_current: tuple[Settings, MovingWindowRateLimiter] | None = None


def set_policy(name: str, message: str | None = None, **limits: str) -> None:
    """Replace (or add) a policy, e.g. `set_policy("analyze", user="2/minute")`."""
    unknown = set(limits) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown rate limit scopes {sorted(unknown)}; use {SCOPES}")
    for rate in limits.values():
        parse_many(rate)  # fail now on a typo, not at the first request
    previous = _policies.get(name)
    _policies[name] = Policy(
        dict(limits), message or (previous.message if previous else Policy({}).message)
    )


def reset_policies() -> None:
    _policies.clear()
    _policies.update(DEFAULT_POLICIES)


def policies() -> dict[str, Policy]:
    return dict(_policies)


def _limiter() -> MovingWindowRateLimiter:
    global _current
    settings = get_settings()
    with _lock:
        if _current is None or _current[0] is not settings:
            if settings.redis_url:
                storage = storage_from_string(
                    settings.redis_url,
                    key_prefix="jsoncraft:limits",
                    wrap_exceptions=True,
                    socket_timeout=1.0,
                    socket_connect_timeout=1.0,
                )
            else:
                storage = storage_from_string("memory://")
            _current = (settings, MovingWindowRateLimiter(storage))
        return _current[1]


def reset_counters() -> None:
    """Forget every counter (the next call builds a fresh storage for the current settings)."""
    global _current
    with _lock:
        if _current is not None:
            _current[1].storage.reset()
        _current = None


def _identifier(scope: str, value: object) -> str:
    text = str(value).strip()
    return text.lower() if scope == "email" else text


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _retry_after(limiter: MovingWindowRateLimiter, item: RateLimitItem, *ids: str) -> int:
    reset_at = limiter.get_window_stats(item, *ids).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def check(policy: str, /, **keys: object) -> None:
    """Count one request against every limit of `policy` for the given keys.

    Keys are scopes of the policy (`user=`, `ip=`, `email=`); a key that is None or empty
    (an unknown client address) is skipped. Nothing is counted when any limit is already
    exhausted, so a refused request does not use up the other scopes.

    Raises TooManyAttemptsError with `retry_after` seconds until a slot frees up.
    """
    rule = _policies.get(policy)
    if rule is None:
        raise ValueError(f"no rate limit policy named {policy!r}")
    check_rule(policy, rule, **keys)


def check_rule(policy: str, rule: Policy, /, **keys: object) -> None:
    """`check` with a rule made by the caller, for limits that depend on data: a project's
    presign rate comes from its owner's plan. `policy` names the counters (one per rule)."""
    unknown = set(keys) - set(rule.limits)
    if unknown:
        raise ValueError(f"policy {policy!r} has no limit per {sorted(unknown)}")
    checks = [
        (item, (policy, scope, _identifier(scope, value)))
        for scope, value in keys.items()
        if value is not None and str(value).strip()
        for item in rule.items(scope)
    ]
    if not checks:
        return
    limiter = _limiter()
    try:
        blocked = [(item, ids) for item, ids in checks if not limiter.test(item, *ids)]
        if not blocked:
            blocked = [(item, ids) for item, ids in checks if not limiter.hit(item, *ids)]
        if not blocked:
            return
        wait = max(_retry_after(limiter, item, *ids) for item, ids in blocked)
    except LimitsStorageError as e:
        # Fail open: an unreachable Redis must not take sign-in and analyses down with it.
        log.warning("rate limit storage unavailable, allowing %s: %s", policy, e.storage_error)
        return
    raise TooManyAttemptsError(rule.message.format(wait=_wait_text(wait)), retry_after=wait)


async def acheck(policy: str, /, **keys: object) -> None:
    """`check` off the event loop (a Redis round trip blocks), for async handlers and States."""
    await asyncio.to_thread(lambda: check(policy, **keys))


def first_use(namespace: str, key: str, *, within_seconds: int) -> bool:
    """True the first time `key` is seen in `within_seconds`, False on a repeat.

    Used to refuse a replayed one-time value (an OAuth state) across workers when Redis is set.
    """
    item = RateLimitItemPerSecond(1, within_seconds)
    try:
        return _limiter().hit(item, "once", namespace, key)
    except LimitsStorageError as e:
        log.warning("rate limit storage unavailable, not checking replay: %s", e.storage_error)
        return True
