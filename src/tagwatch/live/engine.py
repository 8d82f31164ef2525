"""The live engine: committed fixes -> subject state in memory -> the pure rules -> alerts -> events.

One writer thread commits requests in groups (:mod:`.writer`) and hands the new rows to the
engine, which appends them to each subject's window (:mod:`.state`) and marks the subject
dirty. One evaluator thread wakes on new data and on the clock: it judges every dirty subject
once (however many fixes arrived for it meanwhile), and every subject whose deadline for a
time rule has passed (:mod:`.monitor`), reconciles their alerts in one transaction, and
publishes what changed on the event bus. The rules are the batch rules
(:func:`tagwatch.services.evaluation.plan_evaluation`), fed from memory; a change older than
the window is judged from the store instead.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..clock import now_ms as wall_clock
from ..model import GPS_ALERT_KINDS, Assignment, Episode
from ..rules.settings import RuleSettings
from ..services.evaluation import NeedsWholeHistory, get_settings, plan_evaluation
from ..services.ingest import IngestReport
from ..store import Store
from .bus import EventBus
from .monitor import in_force, next_deadline
from .state import OutsideWindow, SubjectState
from .writer import Committed, GroupCommitWriter

__all__ = ["LiveEngine", "LiveSettings"]

log = logging.getLogger("tagwatch.live")
DAY_MS = 86_400_000


@dataclass(frozen=True)
class LiveSettings:
    tick_s: float = 15.0
    """How often the clock loop looks for subjects whose time rules are due."""
    sweep_s: float = 300.0
    """Every subject in force is judged again at least this often (a backstop)."""
    window_s: int = 2 * 86_400 + 3_600
    """The recent track held in memory per subject: an in-order fix is judged with no store read."""
    burst_lag_s: float = 120.0
    """A fix received this much later than it was stamped means the tag is catching up a backlog..."""
    burst_quiet_s: float = 10.0
    """...whose alerts are published once it is in: when fresh fixes arrive, or after this quiet..."""
    burst_max_hold_s: float = 120.0
    """...and never held longer than this."""
    group_ms: float = 2.0
    """How long the writer waits for more requests to commit with the first one."""
    max_pending_records: int = 50_000
    """Queued records beyond which new requests are refused (503) instead of waiting."""
    min_cycle_ms: float = 20.0
    """The evaluator judges dirty subjects at most this often (coalescing under load)."""


class _MemorySource:
    """Tracks from the subject's window; ongoing alerts from one query per cycle for every subject
    judged (``ongoing``: (start, end) of live alerts ending at or after ``floor``), else the store."""

    def __init__(self, state: SubjectState, store: Store, lock: threading.RLock,
                 ongoing: list[tuple[int, int | None]] | None = None, floor: int | None = None) -> None:
        self.state, self.store, self.lock, self.ongoing, self.floor = state, store, lock, ongoing, floor

    def load_track(self, subject_id, from_ms=None, to_ms=None):
        with self.lock:  # the writer thread appends to the window meanwhile
            return self.state.load_track(subject_id, from_ms, to_ms)

    def alert_scope_start(self, subject_id, since_ms):
        if self.ongoing is None or self.floor is None or since_ms < self.floor:
            return self.store.alert_scope_start(subject_id, since_ms)
        return min([since_ms, *(a for a, b in self.ongoing if a < since_ms and (b is None or b >= since_ms))])


class LiveEngine:
    def __init__(self, store: Store, clock: Callable[[], int] = wall_clock, settings: LiveSettings = LiveSettings(),
                 bus: EventBus | None = None, memory: bool = True) -> None:
        """``memory=False`` (``tagwatch monitor``, a process that receives no fixes itself): every
        evaluation reads the store, and arrival times are read from it on each tick."""
        self.store, self.clock, self.settings, self.memory = store, clock, settings, memory
        self.bus = bus or EventBus()
        self.writer = GroupCommitWriter(store, clock, self._known, self._on_commit, settings.max_pending_records,
                                        settings.group_ms)
        self._lock = threading.RLock()
        self._sync = threading.Lock()
        self._wake = threading.Event()
        self._states: dict[str, SubjectState] = {}
        self._by_device: dict[str, list[Assignment]] = {}
        self._devices: set[str] = set()
        self._devices_checked = 0.0
        self._fingerprint: Any = None
        self._fix_generation: str | None = None
        self._rules: RuleSettings | None = None
        self._thread: threading.Thread | None = None
        self._running = False
        self.monitor = True  # the clock rules run in this engine's cycles (start(monitor=False): not)
        self._last_sweep_ms = clock()  # the first sweep after sweep_s; deadlines cover what is due now
        self._alerts_seen_ms = 0
        self._published: dict[int, int] = {}  # alert id -> updated_ms of what this engine published
        self.stats = {"cycles": 0, "evaluations": 0, "from_store": 0, "held": 0, "events": 0}
        self.reload()

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, monitor: bool = True) -> None:
        """Start the writer and the evaluator threads (``monitor``: also the clock rules)."""
        self.monitor = monitor
        self.writer.start()
        if self._thread is None:
            self._running = True
            self._thread = threading.Thread(target=self._run, name="tagwatch-evaluator", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self.writer.stop()
        self._running = False
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    # -- ingest -----------------------------------------------------------------------------
    def submit(self, records: list, source: str):
        """Queue records for the next group commit; a Future of their IngestReport (raises Overloaded)."""
        self.writer.start()
        return self.writer.submit(records, source)

    @property
    def running(self) -> bool:
        return self._thread is not None

    async def ingest(self, records: list, source: str, timeout_s: float = 30.0) -> IngestReport:
        """For async handlers: returns once the records are committed.

        A started engine queues them for the next group commit and judges them off the request
        path. One not started (tests, in-process tools) commits and judges them in a worker
        thread before returning, so the caller sees the alerts at once.
        """
        if not self.running:
            from starlette.concurrency import run_in_threadpool
            return await run_in_threadpool(self._ingest_and_judge, records, source)
        return await asyncio.wait_for(asyncio.wrap_future(self.writer.submit(records, source)), timeout_s)

    def _ingest_and_judge(self, records: list, source: str) -> IngestReport:
        with self._sync:
            report = self.ingest_now(records, source)
            self.cycle(clock_rules=False)
            return report

    def ingest_now(self, records: list, source: str) -> IngestReport:
        """Commit ``records`` in the caller's thread (same path as the writer's; for tests and tools)."""
        return self.writer.commit_now(records, source)

    def _known(self, device_id: str) -> bool:
        if device_id in self._devices:
            return True
        now = time.monotonic()
        if now - self._devices_checked > 1.0:  # a device registered since: look again, once a second
            self._devices_checked = now
            self._devices = self.store.device_ids()
            if device_id in self._devices:
                self.reload()
                return True
        return False

    def _on_commit(self, c: Committed) -> None:
        cols, lag_ms = c.cols, self.settings.burst_lag_s * 1000
        with self._lock:
            by_subject: dict[str, list[int]] = {}
            for i, (dev, ts) in enumerate(zip(cols["device_id"].tolist(), cols["ts_ms"].tolist())):
                sid = self._subject_of(dev, ts)
                if sid is not None:
                    by_subject.setdefault(sid, []).append(i)
            for sid, rows in by_subject.items():
                st = self._states[sid]
                part = {k: v[rows] for k, v in cols.items()}
                st.add(part)
                st.mark_dirty(int(part["ts_ms"].min()))
                # Catching up a backlog: hold its alerts until fresh fixes come (or it goes quiet).
                if bool((part["received_ms"] - part["ts_ms"]).min() > lag_ms):
                    st.catching_up_since_ms = st.catching_up_since_ms or c.now_ms
                    st.catching_up_last_ms = c.now_ms
                else:
                    st.catching_up_since_ms = st.catching_up_last_ms = None
                self._publish_position(st, part)
        self._wake.set()

    def _subject_of(self, device_id: str, ts_ms: int) -> str | None:
        for a in self._by_device.get(device_id, ()):
            if a.from_ms <= ts_ms and (a.to_ms is None or ts_ms < a.to_ms):
                return a.subject_id
        return None

    def _publish_position(self, st: SubjectState, part: dict[str, np.ndarray]) -> None:
        has = ~np.isnan(part["x"].astype(np.float64))
        if not has.any():
            return
        i = int(np.flatnonzero(has)[np.argmax(part["ts_ms"][has])])
        self.bus.publish({"type": "position", "subject_id": st.subject_id, "device_id": str(part["device_id"][i]),
                          "ts_ms": int(part["ts_ms"][i]), "lat": float(part["lat"][i]), "lon": float(part["lon"][i]),
                          "accuracy_m": _num(part["accuracy_m"][i]), "battery_pct": _num(part["battery_pct"][i]),
                          "strap": str(part["strap"][i])})

    # -- what the engine knows of orders and devices ------------------------------------------
    def reload(self) -> None:
        """Read orders, assignments and devices again (after a change made anywhere)."""
        orders, assignments = self.store.orders(), self.store.assignments()
        devices, fingerprint, rules = self.store.device_ids(), self.store.enrolment_fingerprint(), get_settings(self.store)
        unseen = {a.device_id for a in assignments if a.subject_id not in self._states}
        last_rx = self.store.last_received_by_device(sorted(unseen))
        with self._lock:
            self._devices = devices
            by_device: dict[str, list[Assignment]] = {}
            for a in assignments:
                by_device.setdefault(a.device_id, []).append(a)
            self._by_device = by_device
            per_subject: dict[str, tuple[list, list]] = {}
            for o in orders:
                per_subject.setdefault(o.subject_id, ([], []))[0].append(o)
            for a in assignments:
                per_subject.setdefault(a.subject_id, ([], []))[1].append(a)
            for sid, (os_, as_) in per_subject.items():
                st = self._states.get(sid)
                if st is None:
                    st = self._states[sid] = SubjectState(sid, os_, as_)
                    rx = [last_rx[a.device_id] for a in as_ if a.device_id in last_rx]
                    st.last_received_ms = max(rx) if rx else None
                    st.deadline_ms = next_deadline(st, self.clock(), rules)
                    continue
                if st.orders != os_ or st.assignments != as_:
                    st.orders, st.assignments = os_, as_
                    st.window_from_ms = None  # devices may differ: load the window again
                    st.as_of_ms = None
                    st.mark_dirty(-2**62)  # a change in the past: judge the whole history
            self._fingerprint, self._rules = fingerprint, rules

    def _check_outside_changes(self) -> None:
        if self.store.enrolment_fingerprint() != self._fingerprint:
            self.reload()
        rules = get_settings(self.store)
        gen = self.store.get_meta("fix_generation")
        if not self.memory:
            self._refresh_arrivals()
        with self._lock:
            if rules != self._rules:
                self._rules = rules
                for st in self._states.values():
                    st.mark_dirty(-2**62)
            if gen != self._fix_generation:  # fixes came by another path (file ingest): reload windows
                if self._fix_generation is not None:
                    for st in self._states.values():
                        st.window_from_ms = None
                self._fix_generation = gen

    def _refresh_arrivals(self) -> None:
        """Another process ingests: learn each current device's latest arrival from the store."""
        now = self.clock()
        with self._lock:
            states = [st for st in self._states.values() if in_force(st, now)]
        devices = sorted({a.device_id for st in states for a in st.assignments if a.to_ms is None or a.to_ms > now})
        last = self.store.last_received_by_device(devices)
        with self._lock:
            for st in states:
                rx = [last[a.device_id] for a in st.assignments if a.device_id in last]
                if rx and max(rx) != st.last_received_ms:
                    st.last_received_ms = max(rx)
                    st.mark_dirty(st.as_of_ms if st.as_of_ms is not None else max(rx))
                    st.deadline_ms = next_deadline(st, now, self._rules)

    # -- evaluation -------------------------------------------------------------------------
    def _run(self) -> None:
        next_tick = 0.0
        while self._running:
            now_s = time.monotonic()
            if now_s >= next_tick:
                next_tick = now_s + self.settings.tick_s
                try:
                    self._check_outside_changes()
                except Exception:
                    log.exception("could not check the store for outside changes")
            try:
                self.cycle(clock_rules=self.monitor)
            except Exception:
                log.exception("evaluation cycle failed")
            self._wake.wait(timeout=max(0.0, min(next_tick - time.monotonic(), self.settings.tick_s)))
            self._wake.clear()
            time.sleep(self.settings.min_cycle_ms / 1000)

    def cycle(self, clock_rules: bool = True) -> dict[str, int]:
        """Judge every due subject once at the clock's time; reconcile and publish. Returns counts."""
        now = self.clock()
        due = self._due(now, clock_rules)
        plans: list[tuple[str, int | None, list[Episode]]] = []
        starts = [c for _, c in due if c is not None]
        floor = min(starts) - DAY_MS if starts else None
        ongoing = self.store.ongoing_alerts([st.subject_id for st, _ in due], floor) if floor is not None else {}
        for st, changed in due:
            plan = self._plan(st, now, changed, ongoing.get(st.subject_id), floor)
            if plan is not None:
                plans.append(plan)
        counts, changed_rows = self.store.reconcile_many(plans, now, GPS_ALERT_KINDS) if plans else ({}, [])
        with self._lock:
            for st, _ in due:
                st.as_of_ms = now
                st.deadline_ms = next_deadline(st, now, self._rules) if clock_rules else None
        for change, row in changed_rows:
            self._published[row["id"]] = row["updated_ms"]
            self.bus.publish({"type": "alert", "change": change, "alert": row})
        self.stats["cycles"] += 1
        self.stats["events"] += len(changed_rows)
        if clock_rules and now - self._alerts_seen_ms >= 1000:
            self._publish_outside_alert_changes(now)
        return {**counts, "subjects": len(plans)}

    def _due(self, now: int, clock_rules: bool) -> list[tuple[SubjectState, int | None]]:
        quiet, hold = self.settings.burst_quiet_s * 1000, self.settings.burst_max_hold_s * 1000
        sweep = clock_rules and now - self._last_sweep_ms >= self.settings.sweep_s * 1000
        if sweep:
            self._last_sweep_ms = now
        out = []
        with self._lock:
            for st in self._states.values():
                if st.dirty_from_ms is not None:
                    if (st.catching_up_since_ms is not None and now - st.catching_up_last_ms < quiet
                            and now - st.catching_up_since_ms < hold):
                        self.stats["held"] += 1
                        continue
                    changed = st.dirty_from_ms
                elif clock_rules and (sweep or (st.deadline_ms is not None and st.deadline_ms <= now)):
                    if not in_force(st, now):
                        st.as_of_ms, st.deadline_ms = now, None
                        continue
                    changed = min(t for t in (st.as_of_ms, st.last_ts_ms, st.last_received_ms, now) if t is not None)
                else:
                    continue
                st.dirty_from_ms = st.catching_up_since_ms = st.catching_up_last_ms = None
                out.append((st, None if changed <= -2**61 else changed))
        return out

    def _plan(self, st: SubjectState, now: int, changed: int | None, ongoing=None,
              floor: int | None = None) -> tuple[str, int | None, list[Episode]] | None:
        rules = self._rules
        if not st.orders:
            return None
        self.stats["evaluations"] += 1
        try:
            if changed is None:
                raise NeedsWholeHistory(st.subject_id)
            if not self.memory:
                raise OutsideWindow(st.subject_id)
            if st.window_from_ms is None:
                self._load_window(st, now)
            since, episodes = plan_evaluation(_MemorySource(st, self.store, self._lock, ongoing, floor), st.subject_id, st.orders, now,
                                              changed, rules)
        except (OutsideWindow, NeedsWholeHistory):
            self.stats["from_store"] += 1
            try:
                since, episodes = plan_evaluation(self.store, st.subject_id, st.orders, now, changed, rules)
            except NeedsWholeHistory:
                since, episodes = plan_evaluation(self.store, st.subject_id, st.orders, now, None, rules)
        with self._lock:
            st.trim(now - self.settings.window_s * 1000 - 3_600_000)  # trimmed an hour at a time
        return st.subject_id, since, episodes

    def _load_window(self, st: SubjectState, now: int) -> None:
        start = now - self.settings.window_s * 1000
        track = self.store.load_track(st.subject_id, start, None)
        with self._lock:
            st.load(track, start)

    def _publish_outside_alert_changes(self, now: int) -> None:
        """Alerts changed elsewhere (an operator's action, ``tagwatch monitor``, ``tagwatch evaluate``)
        reach the stream too, within a cycle."""
        since = self._alerts_seen_ms
        if since == 0:
            self._alerts_seen_ms = now
            return
        rows = self.store.alerts_updated_since(since)
        for row in rows:
            if self._published.get(row["id"]) != row["updated_ms"]:
                self._published[row["id"]] = row["updated_ms"]
                change = "retracted" if row["retracted_ms"] is not None else (
                    "new" if row["created_ms"] == row["updated_ms"] else "updated")
                self.bus.publish({"type": "alert", "change": change, "alert": row})
        self._alerts_seen_ms = max([since, *(r["updated_ms"] for r in rows)])
        if len(self._published) > 100_000:
            self._published.clear()

    # -- introspection ------------------------------------------------------------------------
    def memory_bytes(self) -> int:
        with self._lock:
            return sum(st.nbytes for st in self._states.values())

    def subjects(self) -> int:
        return len(self._states)


def _num(v) -> float | None:
    v = float(v)
    return None if v != v else v
