"""Evaluate a subject's orders against their track: the one entry point of the rules.

Every fix is judged by the order version in force at the fix's own time; an alert
belongs to one version (an ongoing breach at a variation ends there and, if it goes on
under the new conditions, a new alert starts). Tag-health rules apply while any order
is in force. Nothing here reads a clock or a database: the horizon ``as_of_ms`` and
the data are arguments, so the result cannot depend on the order data arrived in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..model import AlertKind, ConditionKind, Episode, Order
from .health import battery_runs, no_comms_runs, no_fix_runs, tamper_runs
from .settings import DEFAULT_SETTINGS, RuleSettings
from .track import Track
from .zones import ALERT_KIND, condition_runs, condition_windows, effective_accuracy, rows_in_windows

__all__ = ["evaluate_subject", "version_spans"]

_FAR = np.iinfo(np.int64).max // 4
_DAY = 86_400_000


@dataclass(frozen=True, slots=True)
class _Span:
    order: Order
    version: int
    start_ms: int
    end_ms: int  # _FAR when open-ended


def version_spans(orders: Sequence[Order]) -> list[_Span]:
    """When each order version is in force: from its effective time to the next one's."""
    spans = []
    for order in orders:
        o_end = order.effective_end_ms()
        o_end = _FAR if o_end is None else o_end
        versions = sorted(order.versions, key=lambda v: (v.effective_from_ms, v.version))
        for i, v in enumerate(versions):
            nxt = versions[i + 1].effective_from_ms if i + 1 < len(versions) else _FAR
            start, end = max(v.effective_from_ms, order.start_ms), min(nxt, o_end)
            if end > start:
                spans.append(_Span(order, v.version, start, end))
    return spans


def evaluate_subject(
    subject_id: str,
    orders: Sequence[Order],
    track: Track,
    as_of_ms: int,
    settings: RuleSettings = DEFAULT_SETTINGS,
    data_from_ms: int | None = None,
) -> list[Episode]:
    """All episodes for one subject, as known at ``as_of_ms``.

    ``data_from_ms`` says where the supplied track begins when it is a window of a longer
    history; order starts before it are then not treated as a first contact.
    """
    track = track.clipped(as_of_ms)
    spans = version_spans(orders)
    acc_eff = effective_accuracy(track, settings)
    out: list[Episode] = []
    for span in spans:
        version = _version(span)
        for cond in version.conditions:
            if cond.kind not in ALERT_KIND:  # trail and alcohol abstinence: no zone to judge
                continue
            # Windows past the horizon cannot hold data; an open-ended order stops there.
            windows = condition_windows(cond, span.start_ms, min(span.end_ms, as_of_ms + _DAY))
            runs = condition_runs(cond, track, windows, as_of_ms, settings, acc_eff)
            kind = ALERT_KIND[cond.kind]
            for i in range(len(runs)):
                end = None if runs.open[i] else int(runs.end_ms[i])
                out.append(Episode(kind, subject_id, int(runs.start_ms[i]), end, int(runs.confirm_ms[i]),
                                   span.order.id, span.version, cond.id,
                                   _device_at(track, int(runs.start_ms[i]))))
    # GPS tag health applies while a GPS condition is in force (an alcohol-only order has no GPS tag).
    gps_spans = [sp for sp in spans if any(c.kind is not ConditionKind.ALCOHOL_ABSTINENCE for c in _version(sp).conditions)]
    out.extend(_health(subject_id, gps_spans, track, as_of_ms, settings, data_from_ms))
    out.sort(key=lambda e: (e.start_ms, e.kind, e.condition_id or "", e.order_id or ""))
    return out


def _version(span: _Span):
    return next(v for v in span.order.versions if v.version == span.version)


def _device_at(track: Track, t_ms: int) -> str | None:
    if len(track) == 0:
        return None
    i = min(int(np.searchsorted(track.ts_ms, t_ms)), len(track) - 1)
    return track.device_ids[int(track.device[i])]


def _monitored(spans: list[_Span]) -> np.ndarray:
    """Union of the periods in which some order is in force, as (n, 2) ms."""
    merged: list[list[int]] = []
    for s in sorted(spans, key=lambda s: s.start_ms):
        if merged and s.start_ms <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], s.end_ms)
        else:
            merged.append([s.start_ms, s.end_ms])
    return np.array(merged, dtype=np.int64).reshape(-1, 2)


def _health(subject_id, spans, track, as_of_ms, settings, data_from_ms) -> list[Episode]:
    periods = _monitored(spans)
    if periods.size == 0:
        return []
    rows, _ = rows_in_windows(track.ts_ms, periods)
    rec = track.received_ms
    rec_rows, _ = rows_in_windows(rec, periods)
    lower = -_FAR if data_from_ms is None else data_from_ms
    anchors = periods[:, 0][(periods[:, 0] >= lower) & (periods[:, 0] <= as_of_ms)]
    found = {
        AlertKind.STRAP_TAMPER: tamper_runs(track, rows),
        AlertKind.LOW_BATTERY: battery_runs(track, rows, settings),
        AlertKind.NO_FIX: no_fix_runs(track, rows, settings, as_of_ms),
        AlertKind.NO_COMMS: no_comms_runs(rec[rec_rows], anchors, settings, as_of_ms),
    }
    out = []
    for kind, (start, end, confirm, is_open) in found.items():
        for s, e, c, o in zip(start.tolist(), end.tolist(), confirm.tolist(), is_open.tolist()):
            k = int(np.searchsorted(periods[:, 0], s, side="right")) - 1
            if k < 0 or s >= periods[k, 1] or c > as_of_ms:
                continue  # starts outside monitoring, or not yet confirmed at the horizon
            p_end = int(periods[k, 1])
            if o and p_end <= as_of_ms:
                o, e = False, p_end  # monitoring ended while it was going on
            elif not o:
                e = min(e, p_end)
            span = next(sp for sp in spans if sp.start_ms <= s < sp.end_ms)
            out.append(Episode(kind, subject_id, s, None if o else e, c, span.order.id, span.version,
                               None, _device_at(track, s)))
    return out
