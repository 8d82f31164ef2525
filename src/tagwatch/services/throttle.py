"""Login throttling by source address and by username at that address, with exponential back-off.

Two counts are kept in the store (so a restart does not reset them), each with an allowance:

- ``user:NAME@ADDRESS``: 5 failures for one username from one address, then that pair waits
  1 s, 2 s, 4 s ... (at most 15 minutes) after each further failure. A success clears it.
- ``addr:ADDRESS``: 20 failures from one address over any usernames (a spray), then the
  address waits likewise before its next attempt.

A block only ever applies to the address that failed: the right password from any other
client is never refused, so guessing at someone's account cannot lock them out. Counts are
forgotten after an hour without a failure.
"""

from __future__ import annotations

from ..store import Store

__all__ = ["Throttled", "check", "failed", "succeeded", "PAIR_ALLOWANCE", "ADDRESS_ALLOWANCE", "MAX_BACKOFF_MS"]

PAIR_ALLOWANCE, ADDRESS_ALLOWANCE = 5, 20
MAX_BACKOFF_MS = 15 * 60_000
QUIET_MS = 60 * 60_000


class Throttled(Exception):
    """Too many failed logins from this client: try again after ``retry_after_s``."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins from this client; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def _keys(username: str, address: str) -> dict[str, int]:
    return {f"addr:{address}"[:200]: ADDRESS_ALLOWANCE, f"user:{username[:64]}@{address}"[:200]: PAIR_ALLOWANCE}


def check(store: Store, username: str, address: str, now_ms: int) -> None:
    """Raise :class:`Throttled` while this username or this address is in its back-off here."""
    rows = store.login_failures(list(_keys(username, address)))
    until = max((r["blocked_until_ms"] for r in rows.values()), default=0)
    if until > now_ms:
        raise Throttled((until - now_ms) // 1000 + 1)


def failed(store: Store, username: str, address: str, now_ms: int) -> None:
    """Count a failed login for the address and for the username at that address."""
    keys = _keys(username, address)
    rows = store.login_failures(list(keys))
    out = []
    for key, allowance in keys.items():
        row = rows.get(key)
        n = 1 if row is None or now_ms - row["last_ms"] > QUIET_MS else row["failures"] + 1
        backoff = 0 if n < allowance else min(1000 * 2 ** min(n - allowance, 30), MAX_BACKOFF_MS)
        out.append({"key": key, "failures": n, "last_ms": now_ms, "blocked_until_ms": now_ms + backoff})
    store.set_login_failures(out)


def succeeded(store: Store, username: str, address: str) -> None:
    """A right password clears the username's count at this address (not the address's own)."""
    store.clear_login_failures(f"user:{username[:64]}@{address}"[:200])
