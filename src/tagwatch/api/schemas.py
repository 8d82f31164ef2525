"""Request and response bodies: a Base / Create / Update / Public family per resource.

Times travel as ISO 8601 text with an offset (``...Z`` or ``+01:00``); responses add the
epoch milliseconds (``*_ms``) the store keeps.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "TokenPublic", "UserBase", "UserCreate", "UserPublic", "CaseloadUpdate", "SubjectBase", "SubjectCreate",
    "SubjectPublic", "DeviceBase", "DeviceCreate", "AssignmentCreate", "ConditionBase", "OrderCreate",
    "VariationCreate", "OrderEnd", "AlertNote", "MatchReviewCreate", "MatchOutcomeCreate", "FixBatch", "IngestPublic",
]


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_ms: int
    username: str
    role: str


class UserBase(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: Literal["monitoring", "probation", "police", "evaluator", "admin", "gateway"]
    force: str | None = Field(None, description="Police users: the force code matches are shared with (e.g. MPS).")


class UserCreate(UserBase):
    password: str = Field(min_length=12, description="At least 12 characters; stored as an argon2 hash.")
    caseload: list[str] = Field(default_factory=list, description="Probation users: subject ids.")


class UserPublic(UserBase):
    created_ms: int
    disabled_ms: int | None = None
    caseload: list[str] = Field(default_factory=list)


class CaseloadUpdate(BaseModel):
    subject_ids: list[str]


class SubjectBase(BaseModel):
    name: str = ""
    risk_level: Literal["low", "medium", "high"] = "medium"
    offence: str = ""
    borough: str = ""


class SubjectCreate(SubjectBase):
    id: str = Field(min_length=1, max_length=64)


class SubjectPublic(SubjectBase):
    id: str


class DeviceBase(BaseModel):
    kind: str = "gps"
    model: str = ""


class DeviceCreate(DeviceBase):
    id: str = Field(min_length=1, max_length=64)


class AssignmentCreate(BaseModel):
    subject_id: str
    start: str = Field(description="ISO time with offset from which the subject wears the device.")


class ConditionBase(BaseModel):
    """One condition in the enrolment format (docs/formats.md)."""
    id: str = Field(min_length=1, max_length=64)
    kind: Literal["exclusion", "curfew", "attendance", "trail"]
    zone: dict[str, Any] | None = Field(None, description="GeoJSON in WGS84; Point features carry properties.radius_m.")
    schedule: str | None = Field(None, description="e.g. 'Mon-Fri 19:00-07:00' (Europe/London).")
    first_night_start: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class OrderCreate(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    subject_id: str
    type: Literal["licence", "community", "bail"]
    start: str
    end: str | None = None
    conditions: list[ConditionBase] = Field(min_length=1)


class VariationCreate(BaseModel):
    effective_from: str = Field(description="When the variation takes effect (ISO, offset).")
    reason: str = Field(min_length=1)
    set_conditions: list[ConditionBase] = Field(default_factory=list, description="Added, or replacing the same id.")
    drop: list[str] = Field(default_factory=list, description="Condition ids that end.")


class OrderEnd(BaseModel):
    at: str
    reason: str = "completed"


class AlertNote(BaseModel):
    note: str = ""


class MatchReviewCreate(BaseModel):
    action: Literal["qualified", "rejected", "authorised", "shared", "withdrawn"]
    force: str | None = None
    note: str = ""


class MatchOutcomeCreate(BaseModel):
    """What became of a match shared with the caller's force; the force is the caller's own."""
    outcome: Literal["charged", "convicted", "no further action", "eliminated"]
    on: str = Field(description="The date it happened, YYYY-MM-DD (Europe/London); not in the future.")
    note: str = ""


class FixBatch(BaseModel):
    """Fixes as in a JSON Lines file: device_id, ts (ISO with offset), lat, lon, and optionally
    accuracy_m, battery_pct, strap (ok|tamper). Each is judged on its own; rejects are kept."""
    fixes: list[Any] = Field(max_length=10_000)


class IngestPublic(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    reasons: dict[str, int]

