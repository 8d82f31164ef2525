"""What each noise-handling mechanism buys: score rule variants on a loaded demo pilot.

    tagwatch demo                      # leaves demo-pilot/ with its store and truth.json
    python bench/ablation.py demo-pilot
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from tagwatch.services import evaluation
from tagwatch.codec import parse_ts
from tagwatch.model import iso
from tagwatch.rules import DEFAULT_SETTINGS, NAIVE_SETTINGS
from tagwatch.sim import score
from tagwatch.store import open_store

VARIANTS = {
    "defaults (accuracy disc, dwell 2 min / 3 fixes, exit 5 min)": DEFAULT_SETTINGS,
    "no accuracy disc (point judged)": replace(DEFAULT_SETTINGS, accuracy_factor=0.0),
    "no dwell (one fix confirms)": replace(DEFAULT_SETTINGS, dwell_s=0, min_fixes=1),
    "naive: no disc, no dwell": NAIVE_SETTINGS,
}
ZONE_KINDS = ("curfew_breach", "exclusion_breach")


def main(pilot: Path) -> None:
    store = open_store(f"sqlite:///{pilot / 'tagwatch.db'}")
    truth = json.loads((pilot / "truth.json").read_text())
    as_of = parse_ts(truth["as_of"])
    print(f"{'rule variant':62}{'alerts/subject-day':>20}{'precision':>11}{'recall':>8}  zone alerts (P)")
    for name, settings in VARIANTS.items():
        eps = evaluation.episodes_with(store, as_of, settings)
        s = score([{"subject_id": e.subject_id, "kind": str(e.kind), "start": iso(e.start_ms), "end": iso(e.end_ms)}
                   for e in eps], truth)
        zone = ", ".join(f"{k} {s.per_kind[k]['n_alerts']} ({s.per_kind[k]['precision']:.2f})" for k in ZONE_KINDS)
        print(f"{name:62}{s.alerts_per_subject_day:>20.3f}{s.precision:>11.3f}{s.recall:>8.3f}  {zone}")
    print(f"ground truth: {s.true_violations_per_subject_day:.3f} violations per subject-day")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "demo-pilot"))
