"""When a subject must be judged again although no data came: the rules that fire on silence or time.

``no_comms`` opens ``no_comms_s`` after the last arrival; a curfew, an exclusion schedule or an
attendance window starts and ends on the clock; an order starts, is varied and ends; an open
breach ends ``exit_s`` after its last violating fix. :func:`next_deadline` gives the first such
instant after the last evaluation, so the clock loop wakes a subject only when something can
have changed. The loop's periodic sweep (``sweep_s``) judges every subject in force again, as a
backstop for any rule whose timing is not listed here.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import ConditionKind
from ..rules.engine import version_spans
from ..rules.settings import RuleSettings
from ..rules.zones import ALERT_KIND, condition_windows
from .state import SubjectState

__all__ = ["next_deadline", "in_force"]

_DAY = 86_400_000
_FAR = 2**62


def in_force(state: SubjectState, now_ms: int) -> bool:
    """Some order of the subject is in force now, starts within a day, or ended since the last evaluation."""
    since = now_ms if state.as_of_ms is None else min(state.as_of_ms, now_ms)
    for sp in version_spans(state.orders):
        if sp.start_ms <= now_ms + _DAY and sp.end_ms > since:
            return True
    return False


def _boundaries(state: SubjectState, after_ms: int, until_ms: int, settings: RuleSettings) -> Iterable[int]:
    delays = (0, settings.dwell_s * 1000, settings.attendance_min_s * 1000, settings.exit_s * 1000)
    for sp in version_spans(state.orders):
        yield sp.start_ms
        if sp.end_ms < _FAR:
            yield sp.end_ms
        if sp.end_ms <= after_ms or sp.start_ms >= until_ms:
            continue
        version = next(v for v in sp.order.versions if v.version == sp.version)
        for cond in version.conditions:
            if cond.kind not in ALERT_KIND or cond.kind is ConditionKind.ALCOHOL_ABSTINENCE:
                continue
            wins = condition_windows(cond, max(sp.start_ms, after_ms - _DAY), min(sp.end_ms, until_ms))
            for a, b in wins.tolist():
                for d in delays:
                    yield a + d
                    yield b + d


def next_deadline(state: SubjectState, after_ms: int, settings: RuleSettings) -> int | None:
    """The first instant after ``after_ms`` at which the subject's alerts may change with no new data."""
    candidates: list[int] = []
    if state.last_received_ms is not None:
        candidates.append(state.last_received_ms + settings.no_comms_s * 1000)
    if state.last_position_ms is not None:
        candidates.append(state.last_position_ms + settings.no_fix_s * 1000)
    if state.last_ts_ms is not None:
        candidates += [state.last_ts_ms + settings.exit_s * 1000, state.last_ts_ms + settings.dwell_gap_s * 1000]
    candidates += _boundaries(state, after_ms, after_ms + _DAY, settings)
    later = [c for c in candidates if c > after_ms]
    return min(later) if later else None
