"""The AAMR compliance report's arithmetic: pure, over what the alcohol rules found.

Definitions (docs/alcohol.md): an order is *imposed* in the period when it starts in it;
its *length* is from its start to its end (planned, or earlier if ended early); a
*monitored day* is a Europe/London day on which an alcohol condition was in force (a
part day counts), within the period and up to the horizon; *readings* are those taken on
monitored days; a *compliant day* is a monitored day with no confirmed drinking event,
obstruction, strap tamper or missed-readings gap; an order has *ended* when its end is in
the period and not after the horizon; the *compliance rate* is the share of ended orders
that were completed without a confirmed drinking event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..model import AlertKind, Order
from .days import Day, judge_days
from .evaluate import SubjectVerdict
from .settings import AlcoholSettings

__all__ = ["OrderRow", "AamrReport", "aamr_report"]

DAY_MS = 86_400_000


@dataclass
class OrderRow:
    order_id: str
    subject_id: str
    start_ms: int
    end_ms: int | None  # planned end, or the early end
    ended: bool  # ended within the period, by the horizon
    days: list[Day]
    events: int  # confirmed drinking events over the whole order (up to the horizon)
    events_in_period: int
    peak_g_dl: float | None  # highest confirmed peak over the whole order
    obstructions: int
    tampers: int
    gaps: int

    @property
    def monitored_days(self) -> int:
        return len(self.days)

    @property
    def compliant_days(self) -> int:
        return sum(d.compliant for d in self.days)

    @property
    def readings(self) -> int:
        return sum(d.readings for d in self.days)


@dataclass
class AamrReport:
    from_ms: int
    to_ms: int
    as_of_ms: int
    orders: list[OrderRow] = field(default_factory=list)
    imposed: int = 0
    average_length_days: float | None = None

    def summary(self) -> dict:
        days = [d for o in self.orders for d in o.days]
        ended = [o for o in self.orders if o.ended]
        clean = [o for o in ended if o.events == 0]
        monitored = len(days)
        compliant = sum(d.compliant for d in days)
        return {
            "orders_imposed": self.imposed,
            "average_order_length_days": None if self.average_length_days is None else round(self.average_length_days, 1),
            "monitored_days": monitored,
            "readings": sum(d.readings for d in days),
            "readings_per_monitored_day": round(sum(d.readings for d in days) / monitored, 1) if monitored else None,
            "compliant_days": compliant,
            "compliant_day_rate": round(compliant / monitored, 4) if monitored else None,
            "confirmed_drinking_events": sum(o.events_in_period for o in self.orders),
            "days_with_drinking": sum(d.drinking for d in days),
            "days_with_obstruction_or_tamper": sum(d.integrity for d in days),
            "days_with_missed_readings": sum(d.gap for d in days),
            "orders_monitored": sum(1 for o in self.orders if o.days),
            "orders_ended": len(ended),
            "orders_completed_without_confirmed_event": len(clean),
            "compliance_rate": round(len(clean) / len(ended), 4) if ended else None,
        }


def aamr_report(subjects: Sequence[tuple[str, Sequence[Order], SubjectVerdict]], from_ms: int, to_ms: int,
                as_of_ms: int, settings: AlcoholSettings) -> AamrReport:
    """Figures for [from_ms, to_ms) as known at ``as_of_ms``, from each subject's verdict."""
    hi = min(to_ms, as_of_ms)
    rep = AamrReport(from_ms, to_ms, as_of_ms)
    lengths = []
    for subject_id, orders, verdict in subjects:
        days = judge_days(verdict.periods, verdict.readings.ts_ms, verdict.episodes, from_ms, to_ms, as_of_ms, settings)
        alcohol_orders = {p.order_id for p in verdict.periods}
        for order in orders:
            if order.id not in alcohol_orders:
                continue
            end = order.effective_end_ms()
            if from_ms <= order.start_ms < to_ms:
                rep.imposed += 1
                if end is not None:
                    lengths.append((end - order.start_ms) / DAY_MS)
            mine = [e for e in verdict.episodes if e.order_id == order.id]
            drinking = [e for e in mine if e.kind is AlertKind.ALCOHOL_DRINKING]
            peaks = [c.peak_g_dl for c in verdict.curves if c.confirmed and order.start_ms <= c.start_ms
                     and (end is None or c.start_ms < end)]

            def count(kind: AlertKind, mine=mine) -> int:
                return sum(1 for e in mine if e.kind is kind and from_ms <= e.start_ms < hi)

            rep.orders.append(OrderRow(
                order.id, subject_id, order.start_ms, end, end is not None and from_ms < end <= hi,
                [d for d in days if d.order_id == order.id], len(drinking), count(AlertKind.ALCOHOL_DRINKING),
                max(peaks) if peaks else None, count(AlertKind.ALCOHOL_OBSTRUCTION), count(AlertKind.ALCOHOL_TAMPER),
                count(AlertKind.ALCOHOL_NO_READINGS)))
    rep.orders.sort(key=lambda o: (o.start_ms, o.order_id))
    rep.average_length_days = sum(lengths) / len(lengths) if lengths else None
    return rep
