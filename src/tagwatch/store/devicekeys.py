"""Device keys: one SHA-256 digest per device, and a store-wide generation that moves on every change.

The generation (in the meta table) lets a process that caches verified keys notice a rotation made
by another process (the CLI) with one cheap read now and then, instead of a read per request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from . import schema as s
from .errors import StoreError

__all__ = ["DeviceKeyRecords", "KEYS_GENERATION"]

KEYS_GENERATION = "device_keys_generation"


class DeviceKeyRecords:
    engine: Any

    def set_device_key(self, device_id: str, key_sha256: str, now_ms: int) -> int:
        """Store a device's new key digest (replacing any); returns the device's key generation."""
        k, meta = s.device_keys.c, s.meta.c
        with self.engine.begin() as c:
            if c.execute(select(s.devices.c.id).where(s.devices.c.id == device_id)).first() is None:
                raise StoreError(f"no device {device_id!r} (tagwatch devices add)")
            gen = c.execute(select(k.generation).where(k.device_id == device_id)).scalar_one_or_none()
            if gen is None:
                gen = 1
                c.execute(insert(s.device_keys).values(device_id=device_id, key_sha256=key_sha256,
                                                       issued_ms=now_ms, generation=gen))
            else:
                gen += 1
                c.execute(update(s.device_keys).where(k.device_id == device_id)
                          .values(key_sha256=key_sha256, issued_ms=now_ms, generation=gen))
            store_gen = c.execute(select(meta.value).where(meta.key == KEYS_GENERATION)).scalar_one_or_none()
            if store_gen is None:
                c.execute(insert(s.meta).values(key=KEYS_GENERATION, value="1"))
            else:
                c.execute(update(s.meta).where(meta.key == KEYS_GENERATION).values(value=str(int(store_gen) + 1)))
            return gen

    def device_key_digest(self, device_id: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(select(s.device_keys.c.key_sha256)
                             .where(s.device_keys.c.device_id == device_id)).scalar_one_or_none()

    def device_keys_generation(self) -> int:
        with self.engine.connect() as c:
            value = c.execute(select(s.meta.c.value).where(s.meta.c.key == KEYS_GENERATION)).scalar_one_or_none()
        return int(value or 0)
