"""The programme report's section on sobriety tags (alcohol abstinence monitoring), by month.

Pure, over the rows :func:`tagwatch.services.alcohol.programme_rows` loads into
``ProgrammeData.extra``: ``alcohol_days`` (one row per order and monitored Europe/London day,
as the AAMR report judges it) and ``alcohol_events`` (confirmed drinking events, obstructions
and strap tampers). Definitions are the AAMR report's (docs/alcohol.md):

- **orders with sobriety tags**: alcohol-abstinence orders with a monitored day in the month;
- **monitored days**: order-days on which an alcohol condition was in force (a part day counts);
- **compliant days**: monitored days with no confirmed drinking event, obstruction, strap tamper
  or missed-readings gap; the **compliance rate** is compliant / monitored days;
- **confirmed drinking events** and **tamper and obstruction alerts** in the month they started.

A store with no alcohol readings gives the section no series at all.
"""

from __future__ import annotations

from datetime import datetime

from .programme import LONDON, ProgrammeData, Series, register_section

__all__ = ["INTEGRITY_KINDS", "aamr_section"]

INTEGRITY_KINDS = ("alcohol_obstruction", "alcohol_tamper")


def aamr_section(data: ProgrammeData, months: list[str], shared: dict) -> list[Series]:
    days = data.extra.get("alcohol_days", [])
    events = data.extra.get("alcohol_events", [])
    if not days and not events:
        return []
    orders = {m: set() for m in months}
    monitored = dict.fromkeys(months, 0)
    compliant = dict.fromkeys(months, 0)
    for d in days:
        m = d["date"][:7]
        if m in monitored:
            orders[m].add((d["subject_id"], d["order_id"]))
            monitored[m] += 1
            compliant[m] += bool(d["compliant"])
    drinking = dict.fromkeys(months, 0)
    integrity = dict.fromkeys(months, 0)
    for e in events:
        m = datetime.fromtimestamp(e["start_ms"] / 1000, LONDON).strftime("%Y-%m")
        if m in drinking:
            if e["kind"] == "alcohol_drinking":
                drinking[m] += 1
            elif e["kind"] in INTEGRITY_KINDS:
                integrity[m] += 1
    n_mon, n_ok = sum(monitored.values()), sum(compliant.values())
    return [
        Series("aamr_orders", "Orders with sobriety tags", "orders", [len(orders[m]) for m in months],
               len(set().union(*orders.values()))),
        Series("aamr_monitored_days", "Sobriety tags: monitored days", "days", [monitored[m] for m in months], n_mon),
        Series("aamr_compliant_days", "Sobriety tags: compliant days", "days", [compliant[m] for m in months], n_ok),
        Series("aamr_compliance_rate", "Sobriety tags: compliance rate", "share of monitored days",
               [compliant[m] / monitored[m] if monitored[m] else None for m in months],
               n_ok / n_mon if n_mon else None),
        Series("aamr_drinking_events", "Confirmed drinking events", "events", [drinking[m] for m in months],
               sum(drinking.values())),
        Series("aamr_integrity_alerts", "Tamper and obstruction alerts", "alerts", [integrity[m] for m in months],
               sum(integrity.values())),
    ]


register_section("aamr", "Sobriety tags", aamr_section)
