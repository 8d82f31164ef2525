"""What both ``/osmand`` paths (the lean ASGI handler and the routed one) check before ingest.

- A report must carry its device's key (``key=``); :class:`~tagwatch.services.devicekeys.KeyCheck`
  (``app.state.device_keys``) verifies it from memory and counts refusals per device and address.
- Browsers send ``Origin`` / ``Sec-Fetch-*`` on every cross-site POST; devices and gateways never
  do: ingest routes refuse such requests, so a page cannot post fixes through a staff browser.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..services.devicekeys import KeyCheck

__all__ = ["BROWSER_HEADERS", "from_a_browser", "device_authorised", "REFUSED_KEY", "REFUSED_BROWSER"]

BROWSER_HEADERS = frozenset({"origin", "sec-fetch-mode", "sec-fetch-site"})
REFUSED_KEY = "device key missing or wrong"
REFUSED_BROWSER = "ingest routes refuse requests from a browser"


def from_a_browser(header_names: Iterable[str]) -> bool:
    return any(h.lower() in BROWSER_HEADERS for h in header_names)


def device_authorised(keys: KeyCheck, record: dict, key: object, address: str) -> bool:
    """Does the report carry its device's key? A refusal is counted (and logged now and then)."""
    device_id = str(record.get("device_id") or "").strip()
    if keys.verify(device_id, key if isinstance(key, str) else None):
        return True
    keys.refuse(device_id, address, "wrong key" if key else "no key")
    return False
