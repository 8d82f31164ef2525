"""Device keys: issue and rotate a device's secret (shown once, stored as a digest), and check them fast.

A key is 128 random bits (22 URL-safe characters), so a SHA-256 digest compared in constant time
(``hmac.compare_digest``) is enough; no slow hash is needed against guessing. :class:`KeyCheck`
is what the OsmAnd routes use: verified keys are cached in memory, so a report costs no store read
once its device's key is known; a rotation in this process drops the entry at once, and one in
another process (``tagwatch devices rotate-key``) is noticed through the store's key generation,
read at most once per ``recheck_s``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable

from ..store import Store
from . import audit

__all__ = ["new_key", "digest", "issue_key", "KeyCheck"]

log = logging.getLogger("tagwatch.auth")
_MISSING = ""  # cached: the device has no key (or does not exist)


def new_key() -> str:
    return secrets.token_urlsafe(16)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(store: Store, device_id: str, actor: str, role: str, now_ms: int) -> str:
    """A new key for the device (its first, or a rotation: the old one stops working); audited."""
    key = new_key()
    generation = store.set_device_key(device_id, digest(key), now_ms)
    audit.record(store, actor, role, "device_key_issue" if generation == 1 else "device_key_rotate", now_ms,
                 detail={"device_id": device_id, "generation": generation})
    return key


class KeyCheck:
    """Does this report carry its device's key? Refusals counted per (device, source address)."""

    def __init__(self, store: Store, recheck_s: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 max_cached: int = 100_000) -> None:
        self.store, self.recheck_s, self.clock, self.max_cached = store, recheck_s, clock, max_cached
        self._digests: dict[str, str] = {}
        self._generation = store.device_keys_generation()
        self._checked = clock()
        self._lock = threading.Lock()
        self.refused: Counter[tuple[str, str]] = Counter()
        self.store_reads = 0

    def _current(self) -> None:
        now = self.clock()
        if now - self._checked < self.recheck_s:
            return
        self._checked = now
        generation = self.store.device_keys_generation()
        if generation != self._generation:
            self._generation = generation
            self._digests.clear()

    def _digest_of(self, device_id: str) -> str:
        with self._lock:
            self._current()
            known = self._digests.get(device_id)
            if known is not None:
                return known
        self.store_reads += 1
        found = self.store.device_key_digest(device_id) or _MISSING
        with self._lock:
            if len(self._digests) >= self.max_cached:  # many made-up device ids: start again
                self._digests.clear()
            self._digests[device_id] = found
        return found

    def verify(self, device_id: str, key: str | None) -> bool:
        if not device_id or not key:
            return False
        want = self._digest_of(device_id)
        return bool(want) and hmac.compare_digest(want, digest(key))

    def forget(self, device_id: str) -> None:
        """After a rotation in this process: the next report reads the new digest."""
        with self._lock:
            self._digests.pop(device_id, None)

    def refuse(self, device_id: str, address: str, why: str) -> None:
        """Count a refused report; logged the first time per device and address, then every 100th."""
        n = self.refused[(device_id, address)] = self.refused[(device_id, address)] + 1
        if n == 1 or n % 100 == 0:
            log.warning("osmand: refused report %d for device %r from %s: %s", n, device_id[:64], address, why)
