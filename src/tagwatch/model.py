"""The vocabulary of tagwatch: plain, immutable data with units in the names.

Times at the edges are timezone-aware UTC ``datetime``; inside hot loops and in the
store they are int64 epoch milliseconds (``*_ms``). Positions are WGS84 ``lat``/``lon``
as received, and ``x``/``y`` metres on the British National Grid (EPSG:27700) for
every distance computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "AlertKind",
    "AlertStatus",
    "ConditionKind",
    "OrderType",
    "RiskLevel",
    "Severity",
    "SEVERITY_BY_KIND",
    "ALCOHOL_ALERT_KINDS",
    "GPS_ALERT_KINDS",
    "Subject",
    "Device",
    "Assignment",
    "Condition",
    "OrderVersion",
    "Order",
    "Episode",
    "to_ms",
    "from_ms",
    "iso",
]


class OrderType(StrEnum):
    LICENCE = "licence"  # post-release licence
    COMMUNITY = "community"  # community order
    BAIL = "bail"  # pre-trial bail


class ConditionKind(StrEnum):
    EXCLUSION = "exclusion"  # must not enter the zone (optionally only in a schedule)
    CURFEW = "curfew"  # must be inside the zone during the schedule
    ATTENDANCE = "attendance"  # must be at the zone at some point of each schedule window
    TRAIL = "trail"  # positions recorded, no zone
    ALCOHOL_ABSTINENCE = "alcohol_abstinence"  # no alcohol, read through the skin by an alcohol tag; no zone


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AlertKind(StrEnum):
    EXCLUSION_BREACH = "exclusion_breach"
    CURFEW_BREACH = "curfew_breach"
    ATTENDANCE_MISSED = "attendance_missed"
    LOW_BATTERY = "low_battery"
    STRAP_TAMPER = "strap_tamper"
    NO_FIX = "no_fix"
    NO_COMMS = "no_comms"
    # Alcohol tags (docs/alcohol.md)
    ALCOHOL_DRINKING = "alcohol_drinking"  # a confirmed drinking event on the alcohol curve
    ALCOHOL_OBSTRUCTION = "alcohol_obstruction"  # something between the sensor and the skin
    ALCOHOL_TAMPER = "alcohol_tamper"  # the alcohol tag's strap reports tamper
    ALCOHOL_NO_READINGS = "alcohol_no_readings"  # readings missed for longer than allowed


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    CLOSED = "closed"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


SEVERITY_BY_KIND: dict[AlertKind, Severity] = {
    AlertKind.EXCLUSION_BREACH: Severity.HIGH,
    AlertKind.CURFEW_BREACH: Severity.HIGH,
    AlertKind.STRAP_TAMPER: Severity.HIGH,
    AlertKind.ATTENDANCE_MISSED: Severity.MEDIUM,
    AlertKind.NO_COMMS: Severity.MEDIUM,
    AlertKind.NO_FIX: Severity.LOW,
    AlertKind.LOW_BATTERY: Severity.LOW,
    AlertKind.ALCOHOL_DRINKING: Severity.HIGH,
    AlertKind.ALCOHOL_TAMPER: Severity.HIGH,
    AlertKind.ALCOHOL_OBSTRUCTION: Severity.MEDIUM,
    AlertKind.ALCOHOL_NO_READINGS: Severity.MEDIUM,
}

# Alerts are reconciled per family: evaluating GPS fixes never retracts an alcohol alert.
ALCOHOL_ALERT_KINDS: frozenset[AlertKind] = frozenset(
    {AlertKind.ALCOHOL_DRINKING, AlertKind.ALCOHOL_OBSTRUCTION, AlertKind.ALCOHOL_TAMPER, AlertKind.ALCOHOL_NO_READINGS})
GPS_ALERT_KINDS: frozenset[AlertKind] = frozenset(set(AlertKind) - ALCOHOL_ALERT_KINDS)


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime; naive datetimes are a bug."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no UTC offset")
    return int(round(dt.timestamp() * 1000))


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso(ms: int | None) -> str | None:
    """ISO 8601 UTC text for epoch milliseconds (None stays None)."""
    if ms is None:
        return None
    return from_ms(ms).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Subject:
    id: str
    name: str = ""
    risk_level: RiskLevel = RiskLevel.MEDIUM
    offence: str = ""
    borough: str = ""


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    kind: str = "gps"  # gps | alcohol
    model: str = ""


@dataclass(frozen=True, slots=True)
class Assignment:
    """A device worn by a subject from ``from_ms`` until ``to_ms`` (None: still worn)."""

    device_id: str
    subject_id: str
    from_ms: int
    to_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of an order version.

    ``zone`` is a GeoJSON object in WGS84 (a geometry, a Feature or a FeatureCollection;
    Point features carry ``properties.radius_m``). ``schedule`` is a schedule string in
    Europe/London local time (see :mod:`tagwatch.schedule`); ``None`` means always.
    ``first_night_start`` (local ISO datetime, no offset) replaces the start of the first
    curfew window on that date, e.g. the time a released person is due home.
    """

    id: str
    kind: ConditionKind
    zone: dict[str, Any] | None = None
    schedule: str | None = None
    first_night_start: str | None = None


@dataclass(frozen=True, slots=True)
class OrderVersion:
    order_id: str
    version: int
    effective_from_ms: int
    conditions: tuple[Condition, ...]
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    subject_id: str
    type: OrderType
    start_ms: int
    end_ms: int | None
    versions: tuple[OrderVersion, ...] = field(default=())
    ended_ms: int | None = None  # set when ended early (revoked, recalled)
    end_reason: str = ""

    def effective_end_ms(self) -> int | None:
        if self.ended_ms is not None and (self.end_ms is None or self.ended_ms < self.end_ms):
            return self.ended_ms
        return self.end_ms


@dataclass(frozen=True, slots=True)
class Episode:
    """Something the rules found: one alert's worth of evidence.

    ``end_ms`` is None while the episode is still going on at the evaluation horizon.
    ``confirmed_ms`` is the data time at which the rule's evidence became sufficient.
    """

    kind: AlertKind
    subject_id: str
    start_ms: int
    end_ms: int | None
    confirmed_ms: int
    order_id: str | None = None
    order_version: int | None = None
    condition_id: str | None = None
    device_id: str | None = None
    detail: str = ""

    @property
    def severity(self) -> Severity:
        return SEVERITY_BY_KIND[self.kind]
