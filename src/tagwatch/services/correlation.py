"""Use case: correlate stored tracks with stored crimes, and keep the run."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace

import numpy as np
from sqlalchemy import insert, select

from ..correlate import ENGINE_VERSION, MatchParams
from ..correlate.score import DAY_MS, ScoreParams, routine_presence, score_match
from ..store import Store
from ..store import schema as s

__all__ = ["correlate", "run_matches", "recheck_after_ingest"]


def correlate(store: Store, now_ms: int, since_ms: int | None = None, until_ms: int | None = None,
              params: MatchParams = MatchParams(), scoring: ScoreParams = ScoreParams(),
              risk_levels: set[str] | None = None, on_subject: Callable[[str], None] | None = None,
              crime_keys: set[tuple[str, str]] | None = None, subject_ids: set[str] | None = None,
              keep_empty: bool = True, radius_by_type: dict[str, float] | None = None) -> dict | None:
    """Check every (risk-selected) subject's track against every crime in the period; store the run.

    ``radius_by_type`` overrides ``params.radius_m`` for some crime types (e.g. a wider
    radius for vehicle crime). ``crime_keys`` and ``subject_ids`` narrow the run to what
    changed (continuous mode);
    with ``keep_empty`` False, a run with no crime in scope is not stored (returns None).
    """
    crimes = [c for c in store.crimes()
              if (until_ms is None or c["from_ms"] <= until_ms) and (since_ms is None or c["to_ms"] >= since_ms)
              and (crime_keys is None or (c["force"], c["crime_ref"]) in crime_keys)]
    if not crimes and not keep_empty:
        return None
    subjects = [sub for sub in store.subjects() if (risk_levels is None or str(sub.risk_level) in risk_levels)
                and (subject_ids is None or sub.id in subject_ids)]
    radius_by_type = {k.upper(): float(v) for k, v in (radius_by_type or {}).items()}
    params_for = {c["crime_type"]: replace(params, radius_m=radius_by_type.get(c["crime_type"].upper(), params.radius_m))
                  for c in crimes}
    found = []
    if crimes and subjects:
        # numba (and what it loads) only when there is a join to do: other commands start faster.
        from ..correlate.batch import CrimeColumns, join_tracks

        pad = int((params.buffer_s + params.max_gap_s) * 1000)  # radii do not change the time span
        lo, hi = min(c["from_ms"] for c in crimes) - pad, max(c["to_ms"] for c in crimes) + pad
        tracks = []
        for sub in subjects:
            tracks.append(store.load_positions(sub.id, lo, hi + 1))
            if on_subject:
                on_subject(sub.id)
        offsets = np.r_[0, np.cumsum([t[0].size for t in tracks])].astype(np.int64)
        radius = np.array([params_for[c["crime_type"]].radius_m + c["location_accuracy_m"] for c in crimes])
        cols = CrimeColumns(np.array([c["x"] for c in crimes]), np.array([c["y"] for c in crimes]),
                            np.array([c["from_ms"] for c in crimes], np.int64),
                            np.array([c["to_ms"] for c in crimes], np.int64), radius)
        pairs = join_tracks(offsets, *(np.concatenate([t[k] for t in tracks]) for k in range(3)), cols, params)
        # Routine presence needs each matched subject's weeks around the crimes, not only the windows.
        around = scoring.routine_days * DAY_MS
        for s_idx in np.unique(pairs.subject[pairs.evidence != 2]).tolist():
            tracks[s_idx] = store.load_positions(subjects[s_idx].id, lo - around, hi + around)
        for k in range(len(pairs)):
            c, s_idx = crimes[pairs.crime[k]], int(pairs.subject[k])
            sub, m = subjects[s_idx], pairs.match(k)
            r_k = float(radius[pairs.crime[k]])
            routine = (0, 0)
            if pairs.evidence[k] != 2:  # an unaccounted gap places no one anywhere: not asked
                ts, x, y = tracks[s_idx]
                near = (ts >= c["from_ms"] - around) & (ts <= c["to_ms"] + around)
                routine = routine_presence(ts[near], x[near], y[near], c["x"], c["y"], r_k, c["from_ms"], c["to_ms"])
            score, parts = score_match(m, r_k, c["crime_type"], sub.offence, sub.risk_level, scoring,
                                       (c["to_ms"] - c["from_ms"]) / 1000, routine)
            found.append((c, sub.id, m, score, parts))
    match_params = {k: (None if isinstance(v, float) and np.isinf(v) else v) for k, v in asdict(params).items()}
    run_params = {"match": match_params, "radius_by_type": radius_by_type, "score": asdict(scoring),
                  "since_ms": since_ms, "until_ms": until_ms,
                  "risk_levels": sorted(risk_levels) if risk_levels else None,
                  "crimes": sorted(map(list, crime_keys)) if crime_keys is not None else None,
                  "subjects": sorted(subject_ids) if subject_ids is not None else None}
    n_sig = sum(1 for *_, score, _p in found if score >= scoring.threshold)
    with store.engine.begin() as conn:
        run_id = conn.execute(insert(s.correlation_runs).values(
            started_ms=now_ms, engine_version=ENGINE_VERSION, params=json.dumps(run_params, sort_keys=True),
            n_crimes=len(crimes), n_subjects=len(subjects), n_matches=len(found), n_significant=n_sig,
        )).inserted_primary_key[0]
        if found:
            conn.execute(insert(s.matches), [{
                "run_id": run_id, "force": c["force"], "crime_ref": c["crime_ref"], "crime_version": c["version"],
                "subject_id": sid, "evidence": str(m.evidence), "closest_m": round(m.closest_m, 2),
                "closest_ms": m.closest_ms, "first_within_ms": m.first_within_ms, "last_within_ms": m.last_within_ms,
                "within_s": round(m.within_s, 1), "speed_mps": _r(m.speed_mps), "heading_deg": _r(m.heading_deg),
                "score": score, "parts": json.dumps(parts, sort_keys=True), "significant": int(score >= scoring.threshold),
            } for c, sid, m, score, parts in found])
    return {"run_id": run_id, "crimes": len(crimes), "subjects": len(subjects), "matches": len(found),
            "significant": n_sig, "engine_version": ENGINE_VERSION}


def _r(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 2)


def run_matches(store: Store, run_id: int, significant_only: bool = False) -> list[dict]:
    m = s.matches.c
    q = select(s.matches).where(m.run_id == run_id).order_by(m.score.desc(), m.force, m.crime_ref, m.subject_id)
    if significant_only:
        q = q.where(m.significant == 1)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def recheck_after_ingest(store: Store, touched: dict[str, int], now_ms: int,
                         params: MatchParams = MatchParams()) -> dict | None:
    """Continuous mode for late fixes: re-check the touched subjects against crimes from their new data on."""
    if not touched:
        return None
    pad = int((params.buffer_s + params.max_gap_s) * 1000)
    return correlate(store, now_ms, since_ms=min(touched.values()) - pad, params=params,
                     subject_ids=set(touched), keep_empty=False)
