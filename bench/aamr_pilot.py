"""The simulated London AAMR pilot end to end: simulate, load, report, score against truth.

Prints the pilot table (beside the London pilot's published figures), precision and recall
of every alcohol alert kind against the simulator's truth, and the time of each step.

    python bench/aamr_pilot.py [--alcohol 113 --days 365 --start 2025-06-01 --seed 1] [--html FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from tagwatch.services import enrolment, alcohol as svc
from tagwatch.codec import enrolment_from_dict, parse_ts
from tagwatch.model import iso
from tagwatch.sim import score, simulate
from tagwatch.store import open_store

LONDON = {"orders_imposed": "113", "average_order_length_days": "75", "monitored_days": "over 6,500",
          "readings": "over 298,000", "compliance_rate": "92 %"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alcohol", type=int, default=113)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--start", default="2025-06-01")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--html", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pilot = Path(tmp) / "pilot"
        t0 = time.perf_counter()
        summary = simulate(pilot, 0, args.days, args.seed, date.fromisoformat(args.start), n_alcohol=args.alcohol)
        t1 = time.perf_counter()
        store = open_store(f"sqlite:///{Path(tmp) / 'aamr.db'}")
        now = int(time.time() * 1000)
        enrolment.enrol(store, enrolment_from_dict(json.loads((pilot / "enrolment.json").read_text())), now)
        ing = svc.ingest_alcohol_files(store, [pilot / "alcohol.csv"], now)
        as_of = parse_ts(json.loads((pilot / "pilot.json").read_text())["as_of"])
        ev = svc.evaluate_alcohol(store, as_of, now)
        t2 = time.perf_counter()
        rep, verdicts = svc.aamr(store, None, as_of, as_of)
        figures = rep.summary()
        t3 = time.perf_counter()
        if args.html:
            from tagwatch.reports.aamr import render_html
            args.html.write_text(render_html(rep, verdicts, svc.get_alcohol_settings(store), now))
        t4 = time.perf_counter()
        truth = json.loads((pilot / "truth.json").read_text())
        alerts = [{"subject_id": a["subject_id"], "kind": a["kind"], "start": iso(a["start_ms"]),
                   "end": iso(a["end_ms"])} for a in store.alerts()]
        result = score(alerts, truth).to_dict()
    print(f"simulated {summary.n_alcohol} alcohol subjects over {args.days} days from {args.start}, seed {args.seed}: "
          f"{summary.n_readings} readings; ingest accepted {ing.accepted}, rejected {ing.rejected}; "
          f"{ev.new} alerts")
    print(f"\n{'figure':45s} {'simulated':>12s}   London pilot")
    for k, v in figures.items():
        print(f"{k:45s} {'' if v is None else v!s:>12s}   {LONDON.get(k, '')}")
    print(f"\n{'alert kind':22s} {'alerts':>7s} {'true':>6s} {'precision':>10s} {'recall':>7s}")
    for kind, k in sorted(result["per_kind"].items()):
        print(f"{kind:22s} {k['n_alerts']:7d} {k['n_true']:6d} {k['precision']:10.3f} {k['recall']:7.3f}")
    print(f"noise entries that raised an alert: {result['noise_alerted']} of {len(truth['noise'])}")
    print(f"\ntimes: simulate {t1 - t0:.1f} s, load (enrol + ingest + evaluate) {t2 - t1:.1f} s, "
          f"report {t3 - t2:.1f} s" + (f", HTML {t4 - t3:.1f} s" if args.html else ""))


if __name__ == "__main__":
    main()
