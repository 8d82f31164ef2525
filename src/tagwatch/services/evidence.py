"""Use case: export the evidence pack of one or more matches of a crime (HTML or PDF).

An evidence pack is an export of location data: every export goes through
:func:`export_evidence`, which records who exported it, why and when in the pack itself.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..codec import InputError
from ..reports.evidence import build_exhibit, build_pack, context_span
from ..reports.html import render_html
from . import audit
from ..store import Store

__all__ = ["export_evidence", "FORMATS"]

FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def _software() -> str:
    try:
        return f"tagwatch {version('tagwatch')}"
    except PackageNotFoundError:  # running from a source tree
        return "tagwatch"


def _label(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else str(i + 1)


def export_evidence(store: Store, match_ids: int | Sequence[int], out_path: str | Path, by: str, purpose: str,
                    now_ms: int) -> dict:
    """Write the evidence pack of ``match_ids`` (all about the same crime version) to ``out_path``.

    The format follows the extension: ``.html`` (self-contained) or ``.pdf`` (A4). ``by``
    and ``purpose`` are required and printed, with the time, on every page.
    """
    ids = [match_ids] if isinstance(match_ids, int) else list(dict.fromkeys(match_ids))
    out = Path(out_path)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InputError(f"{out.name}: unsupported extension {out.suffix or '(none)'!r}; use .html or .pdf")
    if not by.strip():
        raise InputError("an evidence export needs the name of who exports it (--by)")
    if not purpose.strip():
        raise InputError("an evidence export needs its purpose (--purpose), e.g. a request reference")
    if not ids:
        raise InputError("give at least one match id")
    matches = []
    for mid in ids:
        m = store.match(mid)
        if m is None:
            raise LookupError(f"no match {mid}")
        matches.append(m)
    crimes = {(m["force"], m["crime_ref"], m["crime_version"]) for m in matches}
    if len(crimes) > 1:
        raise InputError("one evidence pack covers one crime: matches "
                         f"{', '.join(map(str, ids))} are about {len(crimes)} different crimes or versions")
    ((force, ref, ver),) = crimes
    crime = store.crime_version(force, ref, ver)
    if crime is None:
        raise LookupError(f"crime {force} {ref} version {ver} of match {ids[0]} is not in the store")
    risk = {sub.id: str(sub.risk_level) for sub in store.subjects()}
    exhibits = []
    for i, m in enumerate(sorted(matches, key=lambda m: (-m["score"], m["subject_id"], m["id"]))):
        lo, hi = context_span(crime, m)
        track = store.load_track(m["subject_id"], lo, hi + 1)
        exhibits.append(build_exhibit(_label(i), m, crime, track, risk.get(m["subject_id"], "unknown"),
                                      store.match_reviews(m["id"])))
    html = render_html(build_pack(crime, exhibits, by.strip(), purpose.strip(), now_ms, _software(),
                                  store.latest_crime_version(force, ref)))
    if fmt == "pdf":
        from ..reports.pdf import html_to_pdf
        data = html_to_pdf(html)
    else:
        data = html.encode("utf-8")
    _write_atomically(out, data)
    # An export of location data: audited like every read (who, when, whom, which time range, why).
    spans = [context_span(crime, m) for m in matches]
    audit.record(store, by.strip(), "cli", "export_evidence", now_ms, [m["subject_id"] for m in matches],
                         min(s[0] for s in spans), max(s[1] for s in spans), purpose.strip(),
                         {"matches": ids, "crime": f"{force} {ref} v{ver}", "format": fmt})
    return {"path": str(out), "format": fmt, "bytes": len(data), "matches": ids, "crime": f"{force} {ref} v{ver}",
            "exhibits": len(exhibits)}


def _write_atomically(path: Path, data: bytes) -> None:
    """Never leave half a pack behind: write beside it, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
