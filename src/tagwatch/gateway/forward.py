"""A gateway's sink when it runs apart from the web app: fix records -> ``POST /api/fixes``.

One live engine judges everything: ``tagwatch gateway`` never opens the store, it forwards what
its devices send to the web app with a gateway user's bearer token, in batches (the records of
many connections that arrive together go in one request), and a device is acked only once the
web app answered 200, i.e. once the batch is committed. The token is read from a file, again
whenever the web app answers 401 (an expired token: replace the file's content).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path

from .coalesce import Coalescer

__all__ = ["HttpForwarder", "ForwardError"]


class ForwardError(Exception):
    """The web app did not take the batch (the devices are not acked and send again)."""


class HttpForwarder:
    """An async sink: ``await forwarder(records)`` returns the web app's reply once it is committed."""

    def __init__(self, api_url: str, token_file: Path, max_batch: int = 2_000, parallel: int = 4,
                 timeout_s: float = 30.0) -> None:
        self.url = api_url.rstrip("/") + "/api/fixes"
        self.token_file, self.timeout_s = Path(token_file), timeout_s
        self.token = self._read_token()
        self._batches = Coalescer(self._send, max_batch, parallel)

    def _read_token(self) -> str:
        token = self.token_file.read_text().strip()
        if not token:
            raise ForwardError(f"{self.token_file} is empty; put a gateway user's token in it")
        return token

    async def __call__(self, records: list[dict]) -> dict:
        return await self._batches(records)

    async def _send(self, records: list[dict]) -> dict:
        return await asyncio.to_thread(self._post, records)

    def _post(self, records: list[dict], retry_auth: bool = True) -> dict:
        body = json.dumps({"fixes": records}).encode()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            if e.code == 401 and retry_auth:
                self.token = self._read_token()
                return self._post(records, retry_auth=False)
            raise ForwardError(f"{self.url} answered {e.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise ForwardError(f"{self.url}: {e}") from None
