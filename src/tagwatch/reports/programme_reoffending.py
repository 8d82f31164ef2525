"""The programme report's section on proven reoffending of the tagged, by the month their follow-up started.

Pure, over the rows :func:`tagwatch.services.reoffending.programme_rows` loads into
``ProgrammeData.extra["reoffending_tagged"]`` (one per tagged person of the imported cohort). Per start
month: tagged people starting, those whose 12-month follow-up and 6-month waiting period have ended by the
report's horizon, their proven reoffending rate and reoffences per person (docs/analytics.md, Proven
reoffending). The comparison with a matched group is ``tagwatch report reoffending``: it needs the
whole pool, and refuses below 60 people, so it is not cut by month. No cohort imported: no series.
"""

from __future__ import annotations

from .programme import ProgrammeData, Series, register_section

__all__ = ["reoffending_section"]


def reoffending_section(data: ProgrammeData, months: list[str], shared: dict) -> list[Series]:
    rows = [r for r in data.extra.get("reoffending_tagged", []) if r["start_date"][:7] in months]
    if not data.extra.get("reoffending_tagged"):
        return []
    by = {m: [r for r in rows if r["start_date"][:7] == m] for m in months}
    done = {m: [r for r in by[m] if r["measurable"]] for m in months}
    all_done = [r for r in rows if r["measurable"]]

    def rate(rs):
        return sum(r["reoffended"] for r in rs) / len(rs) if rs else None

    def freq(rs):
        return sum(r["frequency"] for r in rs) / len(rs) if rs else None

    return [
        Series("reoffending_started", "Tagged people starting follow-up", "people", [len(by[m]) for m in months],
               len(rows)),
        Series("reoffending_measurable", "Of them, with follow-up and waiting period ended", "people",
               [len(done[m]) for m in months], len(all_done)),
        Series("reoffending_rate", "Proven reoffending rate (tagged)", "share of people",
               [rate(done[m]) for m in months], rate(all_done)),
        Series("reoffending_frequency", "Proven reoffences per person (tagged)", "per person",
               [freq(done[m]) for m in months], freq(all_done)),
    ]


register_section("reoffending", "Proven reoffending (tagged)", reoffending_section)
