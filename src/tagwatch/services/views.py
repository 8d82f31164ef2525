"""Use cases that read: what each page shows. Every read of location data is audited.

``subjects=None`` means every subject (monitoring); otherwise the set the caller may see.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from . import audit
from ..codec import condition_to_dict
from ..model import iso
from .users import User
from ..store import Store

__all__ = ["live", "track", "match_evidence", "shared_matches", "timeline", "stats", "match_list", "current_zones",
           "EVIDENCE_PAD_MS"]

EVIDENCE_PAD_MS = 30 * 60_000  # track shown around a crime window as evidence


def current_zones(store: Store, subject_ids: set[str] | None, now_ms: int,
                  at_ms: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Zones of each order's version in effect at ``now_ms`` (or its first, before it starts).

    ``at_ms`` gives another time per subject (e.g. their latest fix), so a position is
    drawn with the zones that applied when it was taken.
    """
    out = []
    for o in store.orders():
        if subject_ids is not None and o.subject_id not in subject_ids:
            continue
        now_ms_ = (at_ms or {}).get(o.subject_id, now_ms)
        end = o.effective_end_ms()
        if end is not None and end <= now_ms_:
            continue
        versions = sorted(o.versions, key=lambda v: v.version)
        in_force = [v for v in versions if v.effective_from_ms <= now_ms_] or versions[:1]
        for c in in_force[-1].conditions:
            if c.zone is not None:
                out.append({"subject_id": o.subject_id, "order_id": o.id, "version": in_force[-1].version,
                            **condition_to_dict(c)})
    return out


def live(store: Store, user: User, subjects: set[str] | None, purpose: str, now_ms: int) -> dict[str, Any]:
    """Latest position of each visible subject, with their zones; audited as one read."""
    ids = None if subjects is None else sorted(subjects)
    positions = store.latest_positions(ids)
    zones = current_zones(store, subjects, now_ms, {p["subject_id"]: p["ts_ms"] for p in positions})
    audit.record(store, user.username, user.role, "read_positions", now_ms,
                         [p["subject_id"] for p in positions] + [z["subject_id"] for z in zones], purpose=purpose,
                         detail={"positions": len(positions), "zones": len(zones)})
    for p in positions:
        p["ts"] = iso(p["ts_ms"])
    return {"positions": positions, "zones": zones}


def track(store: Store, user: User, subject_id: str, from_ms: int, to_ms: int, purpose: str,
          now_ms: int, action: str = "read_track") -> dict[str, Any]:
    """A subject's fixes in ``[from_ms, to_ms)`` and zones; audited with the range and purpose."""
    points = store.track_points(subject_id, from_ms, to_ms)
    audit.record(store, user.username, user.role, action, now_ms, [subject_id], from_ms, to_ms, purpose,
                         {"points": len(points)})
    return {"subject_id": subject_id, "from": iso(from_ms), "to": iso(to_ms), "points": points,
            "zones": current_zones(store, {subject_id}, to_ms)}


def _crime(store: Store, force: str, ref: str, version: int) -> dict[str, Any] | None:
    return next((c for c in store.crimes(all_versions=True)
                 if (c["force"], c["crime_ref"], c["version"]) == (force, ref, version)), None)


def match_evidence(store: Store, user: User, match_id: int, purpose: str, now_ms: int) -> dict[str, Any] | None:
    """A match with its crime, decisions and the track around the crime window (audited)."""
    m = store.match(match_id)
    if m is None:
        return None
    crime = _crime(store, m["force"], m["crime_ref"], m["crime_version"])
    lo = (crime["from_ms"] if crime else m["closest_ms"]) - EVIDENCE_PAD_MS
    hi = (crime["to_ms"] if crime else m["closest_ms"]) + EVIDENCE_PAD_MS
    t = track(store, user, m["subject_id"], lo, hi, purpose, now_ms, action="read_match_evidence")
    return {"match": _match_public(m), "crime": crime, "reviews": store.match_reviews(match_id),
            "track": t["points"], "from": t["from"], "to": t["to"]}


def _match_public(m: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in m.items() if k not in ("parts", "run_params")}
    out["parts"] = json.loads(m["parts"]) if m.get("parts") else {}
    out["closest"] = iso(m["closest_ms"])
    return out


def match_list(store: Store, user: User, purpose: str, now_ms: int, significant_only: bool = True,
               limit: int = 500) -> list[dict[str, Any]]:
    """Matches of every run, newest run first, each with its decisions so far; each names a subject
    and how close they came to a crime scene, so the listing is an audited read."""
    rows = store.match_rows(significant_only, limit)
    shared = set(store.shared_match_ids())
    out = []
    for m in rows:
        reviews = store.match_reviews(m["id"])
        out.append({**_match_public(m), "decisions": [r["action"] for r in reviews],
                    "shared_with": sorted({r["force"] for r in reviews if r["action"] == "shared"})
                    if m["id"] in shared else []})
    _audit_matches(store, user, "read_matches", out, purpose, now_ms)
    return out


def _audit_matches(store: Store, user: User, action: str, matches: list[dict[str, Any]], purpose: str,
                   now_ms: int, **detail: Any) -> None:
    audit.record(store, user.username, user.role, action, now_ms, sorted({m["subject_id"] for m in matches}),
                 purpose=purpose, detail={"matches": [m["id"] for m in matches], **detail})


def shared_matches(store: Store, user: User, purpose: str, now_ms: int) -> list[dict[str, Any]]:
    """What has been shared (and not withdrawn) with the user's force: the match (subject, closest
    distance and time, speed, heading) and its crime's place, no track; audited as one read."""
    force = user.force
    out = []
    for mid in store.shared_match_ids(force):
        m = store.match(mid)
        reviews = store.match_reviews(mid)
        shared_at = max(r["ts_ms"] for r in reviews if r["action"] == "shared" and r["force"] == force)
        out.append({"match": _match_public(m), "crime": _crime(store, m["force"], m["crime_ref"], m["crime_version"]),
                    "shared_ms": shared_at, "shared": iso(shared_at),
                    "shared_by": next(r["actor"] for r in reversed(reviews) if r["action"] == "shared")})
    _audit_matches(store, user, "read_shared_matches", [o["match"] for o in out], purpose, now_ms, force=force)
    return out


def timeline(store: Store, subject_id: str) -> list[dict[str, Any]]:
    """Orders, variations, alerts and what staff did about them, oldest first (no positions)."""
    events = []
    for o in store.orders(subject_id):
        for v in o.versions:
            events.append({"ts_ms": v.effective_from_ms, "kind": "order" if v.version == 1 else "variation",
                           "text": f"order {o.id} v{v.version}: {v.reason} ("
                                   + ", ".join(f"{c.id} {c.kind}" for c in v.conditions) + ")"})
        if o.ended_ms is not None:
            events.append({"ts_ms": o.ended_ms, "kind": "order_end", "text": f"order {o.id} ended: {o.end_reason}"})
    for a in store.alerts(subject_id):
        events.append({"ts_ms": a["start_ms"], "kind": "alert", "alert_id": a["id"],
                       "text": f"{a['kind']} ({a['severity']}) - {a['status']}"})
        for e in store.alert_events(a["id"]):
            events.append({"ts_ms": e["ts_ms"], "kind": "action", "alert_id": a["id"],
                           "text": f"alert {a['id']} {e['action']} by {e['actor']}" + (f": {e['note']}" if e["note"] else "")})
    events.sort(key=lambda e: e["ts_ms"])
    for e in events:
        e["ts"] = iso(e["ts_ms"])
    return events


def stats(store: Store) -> dict[str, Any]:
    """Programme figures with no individual in them: counts by kind, status, risk level."""
    subjects = store.subjects()
    alerts = store.alerts()
    return {
        "subjects": len(subjects),
        "subjects_by_risk": dict(Counter(str(s.risk_level) for s in subjects)),
        "orders": len(store.orders()),
        "fixes": store.count("fixes"),
        "rejected_rows": store.count("rejects"),
        "alerts": len(alerts),
        "alerts_by_kind": dict(Counter(a["kind"] for a in alerts)),
        "alerts_by_status": dict(Counter(a["status"] for a in alerts)),
        "matches": store.count("matches"),
        "matches_shared": len(store.shared_match_ids()),
    }
