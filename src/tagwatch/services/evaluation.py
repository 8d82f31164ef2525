"""Use cases: rule settings, and evaluating subjects' tracks into reconciled alerts.

Each takes the clock as an argument (``now_ms``) so that tests and simulations control time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Protocol
from dataclasses import dataclass

from ..model import GPS_ALERT_KINDS, Episode, Order
from ..rules import DEFAULT_SETTINGS, RuleSettings, evaluate_subject
from ..rules.track import Track
from ..store import Store

__all__ = ["EvalReport", "evaluate", "subjects_touched", "episodes_with", "get_settings", "set_settings",
           "plan_evaluation", "TrackSource", "NeedsWholeHistory"]

DAY_MS = 86_400_000


# -- settings ---------------------------------------------------------------------------------
def get_settings(store: Store) -> RuleSettings:
    text = store.get_meta("rules")
    return DEFAULT_SETTINGS if text is None else DEFAULT_SETTINGS.with_overrides(**json.loads(text))


def set_settings(store: Store, **overrides: float) -> RuleSettings:
    """Change rule settings for this store (kept in it, so every evaluation is reproducible)."""
    current = json.loads(store.get_meta("rules") or "{}")
    merged = get_settings(store).with_overrides(**overrides)
    current.update({k: getattr(merged, k) for k in overrides})
    store.set_meta("rules", json.dumps(current, sort_keys=True))
    return merged


# -- evaluation ------------------------------------------------------------------------------------
@dataclass
class EvalReport:
    subjects: int = 0
    new: int = 0
    updated: int = 0
    retracted: int = 0
    unchanged: int = 0


def subjects_touched(store: Store, touched: dict[str, int]) -> dict[str, int]:
    """Subject -> earliest time to re-examine, from device -> earliest new fix."""
    out: dict[str, int] = {}
    for a in store.assignments():
        t = touched.get(a.device_id)
        if t is None or (a.to_ms is not None and a.to_ms <= t):
            continue
        out[a.subject_id] = min(out.get(a.subject_id, t), max(t, a.from_ms))
    return out


def evaluate(store: Store, as_of_ms: int, now_ms: int, since: dict[str, int] | None = None,
             settings: RuleSettings | None = None,
             on_subject: Callable[[str], None] | None = None) -> EvalReport:
    """Re-evaluate subjects and reconcile their alerts.

    ``since`` maps subject -> earliest fix time that changed; only the alerts from a day
    before it are reconsidered. Without it every subject is evaluated over its whole
    history. Both give the same alerts (tests/test_incremental.py checks this).
    """
    settings = settings or get_settings(store)
    report = EvalReport()
    subject_ids = sorted(since) if since is not None else [s.id for s in store.subjects()]
    for sid in subject_ids:
        counts = _evaluate_one(store, sid, as_of_ms, now_ms, None if since is None else since[sid], settings)
        report.subjects += 1
        for k, v in counts.items():
            setattr(report, k, getattr(report, k) + v)
        if on_subject:
            on_subject(sid)
    return report


def episodes_with(store: Store, as_of_ms: int, settings: RuleSettings) -> list[Episode]:
    """What the rules would find with other settings, without touching stored alerts."""
    out = []
    for subj in store.subjects():
        track = store.load_track(subj.id, None, as_of_ms + 1)
        out.extend(evaluate_subject(subj.id, store.orders(subj.id), track, as_of_ms, settings))
    return out


class TrackSource(Protocol):
    """Where an evaluation reads tracks and ongoing alerts from: the store, or the live engine's memory."""

    def load_track(self, subject_id: str, from_ms: int | None = None, to_ms: int | None = None) -> Track: ...

    def alert_scope_start(self, subject_id: str, since_ms: int) -> int: ...


class NeedsWholeHistory(Exception):
    """The change reaches so far back that the subject's whole history must be judged."""


def plan_evaluation(source: TrackSource, sid: str, orders: list[Order], as_of_ms: int, changed_ms: int | None,
                    settings: RuleSettings) -> tuple[int | None, list[Episode]]:
    """The episodes to reconcile with the stored alerts from ``since`` on (None: the whole history).

    A change at ``changed_ms`` reconsiders alerts from a day before it, moved back to the start
    of any alert still going on then; the track is read from a day before that, so runs that
    cross ``since`` are seen whole. A run still crossing it moves ``since`` back (at most four
    times), then the whole history is judged. tests/test_incremental.py checks that this gives
    the alerts of one evaluation of everything.
    """
    if changed_ms is None:
        track = source.load_track(sid, None, as_of_ms + 1)
        return None, evaluate_subject(sid, orders, track, as_of_ms, settings)
    since = changed_ms - DAY_MS
    for _ in range(4):
        since = source.alert_scope_start(sid, since)
        load_from = since - DAY_MS
        track = source.load_track(sid, load_from, as_of_ms + 1)
        episodes = evaluate_subject(sid, orders, track, as_of_ms, settings, data_from_ms=load_from)
        crossing = [e.start_ms for e in episodes
                    if e.start_ms < since and (e.end_ms is None or e.end_ms >= since)]
        if not crossing:
            return since, [e for e in episodes if e.start_ms >= since]
        since = min(crossing) - DAY_MS
    raise NeedsWholeHistory(sid)


def _evaluate_one(store: Store, sid: str, as_of_ms: int, now_ms: int, changed_ms: int | None,
                  settings: RuleSettings) -> dict[str, int]:
    orders = store.orders(sid)
    try:
        since, episodes = plan_evaluation(store, sid, orders, as_of_ms, changed_ms, settings)
    except NeedsWholeHistory:
        since, episodes = plan_evaluation(store, sid, orders, as_of_ms, None, settings)
    return store.reconcile_alerts(sid, since, episodes, now_ms, GPS_ALERT_KINDS)
