"""Group commit: concurrent requests' fixes are committed together by one writer thread.

Each request (an OsmAnd report, a ``POST /api/fixes`` batch) is put on a bounded queue with a
future. The writer takes everything queued (waiting ``group_ms`` for more once it holds one),
validates it with the same judge as file ingest, inserts all good rows in one transaction,
stores the rejects with their reasons, and only then resolves each request's future with its
own counts: a request is acknowledged only after the commit that holds its fixes. With the
queue full, :meth:`GroupCommitWriter.submit` raises :class:`Overloaded` at once (the web layer
answers 503 with ``Retry-After``) instead of letting requests time out.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from ..ingest.fixes import Reject, validate_record
from ..services.ingest import IngestReport, fix_columns, http_records, store_rejects, with_bng
from ..store import Store

__all__ = ["GroupCommitWriter", "Overloaded", "Committed"]

log = logging.getLogger("tagwatch.live")


class Overloaded(Exception):
    """The writer's queue is full: try again after ``retry_after_s``."""

    def __init__(self, retry_after_s: int = 1) -> None:
        super().__init__(f"the server is busy; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass
class _Request:
    records: list
    source: str
    future: Future


@dataclass
class Committed:
    """What one group commit stored: the new rows as columns (with x/y), and when."""
    cols: dict[str, np.ndarray]
    now_ms: int


class GroupCommitWriter:
    def __init__(self, store: Store, clock: Callable[[], int], known_devices: Callable[[str], bool],
                 on_commit: Callable[[Committed], None], max_pending_records: int = 50_000,
                 group_ms: float = 2.0, max_group_records: int = 20_000) -> None:
        self.store, self.clock, self.known, self.on_commit = store, clock, known_devices, on_commit
        self.group_s, self.max_group = group_ms / 1000, max_group_records
        self.max_pending = max_pending_records
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.commits = 0
        self.committed_records = 0

    # -- the request side -------------------------------------------------------------------
    def submit(self, records: list, source: str) -> Future:
        """Queue ``records``; the future resolves to their IngestReport after the commit."""
        n = max(1, len(records))
        with self._lock:
            if self._pending + n > self.max_pending and self._pending > 0:
                raise Overloaded()
            self._pending += n
        fut: Future = Future()
        self._queue.put(_Request(records, source, fut))
        return fut

    def commit_now(self, records: list, source: str) -> IngestReport:
        """Validate, store and acknowledge ``records`` in the caller's thread, as one group."""
        req = _Request(records, source, Future())
        with self._lock:
            self._pending += max(1, len(records))
        self.commit([req])
        return req.future.result()

    @property
    def pending(self) -> int:
        return self._pending

    # -- the writer thread ------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tagwatch-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, n = [first], len(first.records)
            deadline = time.monotonic() + self.group_s
            stop = False
            while n < self.max_group:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
                n += len(item.records)
            self.commit(group)
            if stop:
                return

    def commit(self, group: list[_Request]) -> None:
        """Validate, store and acknowledge one group (also callable directly, e.g. by tests)."""
        try:
            reports, committed = self._store(group)
        except Exception as e:  # the store failed: nothing of this group is acknowledged
            log.exception("group commit failed")
            for r in group:
                r.future.set_exception(e)
        else:
            self.commits += 1
            self.committed_records += sum(len(r.records) for r in group)
            if committed is not None:
                try:
                    self.on_commit(committed)
                except Exception:  # evaluation trouble must not un-acknowledge stored fixes
                    log.exception("live engine could not take the committed fixes")
            for r, rep in zip(group, reports):
                r.future.set_result(rep)
        finally:
            with self._lock:
                self._pending -= sum(max(1, len(r.records)) for r in group)

    def _store(self, group: list[_Request]) -> tuple[list[IngestReport], Committed | None]:
        now = self.clock()
        reports = [IngestReport() for _ in group]
        good: list[dict] = []
        owner: list[int] = []
        rejects: dict[str, list[Reject]] = {}
        for i, req in enumerate(group):
            for line_no, raw, rec, error in http_records(req.records):
                row, reason = (None, error) if error else validate_record(rec, now, _Known(self.known))
                if row is None:
                    rejects.setdefault(req.source, []).append(Reject(line_no, raw[:2000], reason))
                    reports[i].add_reject(reason)
                else:
                    good.append(row)
                    owner.append(i)
        committed = None
        if good:
            cols = with_bng(fix_columns(good))
            new = self.store.insert_fix_rows_new(cols)
            owners = np.asarray(owner)
            for i, rep in enumerate(reports):
                mine = owners == i
                rep.accepted = int(new[mine].sum())
                rep.duplicates = int(mine.sum()) - rep.accepted
            if new.any():
                committed = Committed({k: v[new] for k, v in cols.items()}, now)
        for source, bad in rejects.items():
            store_rejects(self.store, bad, source, now)
        return reports, committed


class _Known:
    """``x in known`` for the validator, answered by the engine (which refreshes its device list)."""

    def __init__(self, known: Callable[[str], bool]) -> None:
        self._known = known

    def __contains__(self, device_id: object) -> bool:
        return isinstance(device_id, str) and self._known(device_id)
