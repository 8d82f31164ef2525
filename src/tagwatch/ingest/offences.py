"""Proven offence files and comparison-cohort files (CSV) -> validated rows or rejects with a reason.

As for fixes: each bad row is rejected on its own with ``code: message`` and the line, its
neighbours unaffected; a header lacking a required column refuses the whole file. Formats:
docs/formats.md (schemas ``offences`` and ``cohort``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from .fixes import Reject, blank, csv_records
from .lines import text_lines

__all__ = ["OFFENCE_REQUIRED", "COHORT_REQUIRED", "COHORT_OPTIONAL", "GROUPS", "read_offences", "read_cohort"]

OFFENCE_REQUIRED = ("person_id", "offence_date", "disposal_date", "disposal")
OFFENCE_OPTIONAL = ("offence_type",)
COHORT_REQUIRED = ("person_id", "group", "start_date", "age", "gender", "prior_offences")
COHORT_OPTIONAL = ("index_offence", "ogrs")
DISPOSALS = ("conviction", "caution")
GROUPS = ("comparison", "gps", "alcohol")
GENDERS = {"male": 1.0, "m": 1.0, "female": 0.0, "f": 0.0}


class _Bad(ValueError):
    pass


def _date(rec: dict, name: str) -> date:
    v = (rec.get(name) or "").strip()
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise _Bad(f"bad_date: {name} {v!r} is not a date YYYY-MM-DD") from None


def _num(rec: dict, name: str, lo: float, hi: float, integer: bool = False) -> float:
    v = (rec.get(name) or "").strip()
    try:
        x = float(v)
    except ValueError:
        raise _Bad(f"bad_number: {name} {v!r} is not a number") from None
    if not math.isfinite(x) or not lo <= x <= hi or (integer and not x.is_integer()):
        raise _Bad(f"bad_number: {name} {v!r} is outside {lo:g}..{hi:g}" + (" or not whole" if integer else ""))
    return x


def _person(rec: dict) -> str:
    if blank(rec.get("person_id")):
        raise _Bad("missing_person: person_id is empty")
    return rec["person_id"].strip()


def offence_row(rec: dict) -> dict:
    pid = _person(rec)
    on, proven = _date(rec, "offence_date"), _date(rec, "disposal_date")
    disposal = (rec.get("disposal") or "").strip().lower()
    if disposal not in DISPOSALS:
        raise _Bad(f"unknown_disposal: {disposal!r} is not one of {', '.join(DISPOSALS)}")
    if proven < on:
        raise _Bad(f"disposal_before_offence: disposal {proven} is before the offence {on}")
    return {"person_id": pid, "offence_date": on.isoformat(), "disposal_date": proven.isoformat(),
            "disposal": disposal, "offence_type": (rec.get("offence_type") or "").strip()}


def cohort_row(rec: dict) -> dict:
    pid = _person(rec)
    group = (rec.get("group") or "").strip().lower()
    if group not in GROUPS:
        raise _Bad(f"bad_group: {group!r} is not one of {', '.join(GROUPS)}")
    gender = (rec.get("gender") or "").strip().lower()
    if gender not in GENDERS:
        raise _Bad(f"bad_gender: {gender!r} is not male or female")
    ogrs = None if blank(rec.get("ogrs")) else _num(rec, "ogrs", 0, 100)
    return {"person_id": pid, "grp": group, "start_date": _date(rec, "start_date").isoformat(),
            "age": _num(rec, "age", 10, 110), "male": GENDERS[gender],
            "index_offence": (rec.get("index_offence") or "").strip().lower(),
            "prior_offences": int(_num(rec, "prior_offences", 0, 1000, integer=True)), "ogrs": ogrs}


def _read(path: Path, required, optional, check: Callable[[dict], dict]) -> tuple[list[dict], list[Reject]]:
    rows, bad = [], []
    # Line by line, as fix files: an undecodable byte or an unclosed quote rejects only its line.
    records: Iterator = csv_records(path, text_lines(path, csv_quotes=True), required, optional)
    for line_no, raw, rec, err in records:
        if err is None:
            try:
                rows.append(check(rec))
                continue
            except _Bad as e:
                err = str(e)
        bad.append(Reject(line_no, raw[:2000], err))
    return rows, bad


def read_offences(path: Path) -> tuple[list[dict], list[Reject]]:
    return _read(Path(path), OFFENCE_REQUIRED, OFFENCE_OPTIONAL, offence_row)


def read_cohort(path: Path) -> tuple[list[dict], list[Reject]]:
    """Rows of the cohort file; a person id given twice keeps its last row (a correction)."""
    return _read(Path(path), COHORT_REQUIRED, COHORT_OPTIONAL, cohort_row)
