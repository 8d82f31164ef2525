"""Transdermal alcohol monitoring: the pure core (events, integrity, days, the AAMR report).

No I/O and no clock: readings, orders, the horizon and the settings in; verdicts out.
"""

from .days import Day, judge_days, london_days
from .evaluate import Period, SubjectVerdict, alcohol_periods, evaluate_alcohol, judge_subject
from .events import Curve, drinking_events, examine_curves
from .integrity import gap_runs, obstruction_runs, tamper_runs
from .readings import Readings
from .report import AamrReport, OrderRow, aamr_report
from .settings import DEFAULT_ALCOHOL_SETTINGS, AlcoholSettings

__all__ = ["AlcoholSettings", "DEFAULT_ALCOHOL_SETTINGS", "Readings", "Curve", "examine_curves", "drinking_events",
           "obstruction_runs", "tamper_runs", "gap_runs", "Period", "SubjectVerdict", "alcohol_periods",
           "judge_subject", "evaluate_alcohol", "Day", "london_days", "judge_days", "AamrReport", "OrderRow",
           "aamr_report"]
