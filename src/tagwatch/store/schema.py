"""Tables of the store (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Times are BIGINT epoch milliseconds (UTC): exact, index-friendly, and the same on every
backend. Fixes keep the WGS84 position as received and the derived BNG metres used by
the rules, so evaluation never re-projects.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["metadata", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
metadata = MetaData()

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

subjects = Table(
    "subjects", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False, default=""),
    Column("risk_level", String(16), nullable=False),
    Column("offence", Text, nullable=False, default=""),
    Column("borough", Text, nullable=False, default=""),
    Column("created_ms", BigInteger, nullable=False),
)

devices = Table(
    "devices", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("model", Text, nullable=False, default=""),
    Column("created_ms", BigInteger, nullable=False),
)

assignments = Table(
    "assignments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), ForeignKey("devices.id"), nullable=False),
    Column("subject_id", String(64), ForeignKey("subjects.id"), nullable=False),
    Column("from_ms", BigInteger, nullable=False),
    Column("to_ms", BigInteger),
    Index("ix_assignments_device", "device_id", "from_ms"),
    Index("ix_assignments_subject", "subject_id", "from_ms"),
)

orders = Table(
    "orders", metadata,
    Column("id", String(64), primary_key=True),
    Column("subject_id", String(64), ForeignKey("subjects.id"), nullable=False, index=True),
    Column("type", String(16), nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger),
    Column("ended_ms", BigInteger),
    Column("end_reason", Text, nullable=False, default=""),
    Column("created_ms", BigInteger, nullable=False),
)

# Versions are appended, never updated: a variation is a new row.
order_versions = Table(
    "order_versions", metadata,
    Column("order_id", String(64), ForeignKey("orders.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("effective_from_ms", BigInteger, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("conditions", Text, nullable=False),  # JSON list of conditions
    Column("created_ms", BigInteger, nullable=False),
)

fixes = Table(
    "fixes", metadata,
    Column("device_id", String(64), primary_key=True),
    Column("ts_ms", BigInteger, primary_key=True),
    Column("lat", Float),
    Column("lon", Float),
    Column("x", Float),
    Column("y", Float),
    Column("accuracy_m", Float),
    Column("battery_pct", Float),
    Column("strap", String(8), nullable=False, default="ok"),
    Column("received_ms", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
Index("ix_fixes_received", fixes.c.device_id, fixes.c.received_ms)

rejects = Table(
    "rejects", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("line_no", Integer),
    Column("raw", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("subject_id", String(64), ForeignKey("subjects.id"), nullable=False),
    Column("order_id", String(64)),
    Column("order_version", Integer),
    Column("condition_id", String(64)),
    Column("device_id", String(64)),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger),
    Column("confirmed_ms", BigInteger, nullable=False),
    Column("severity", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    # Later data can show an alert was wrong (a late upload fills a gap): it is kept,
    # marked retracted, never deleted.
    Column("retracted_ms", BigInteger),
    Column("retract_reason", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_alerts_subject", "subject_id", "start_ms"),
    Index("ix_alerts_updated", "updated_ms"),
)

alert_events = Table(
    "alert_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False, index=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
)

crime_batches = Table(
    "crime_batches", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("format", String(16), nullable=False),
    Column("force", String(16), nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),  # successful | partial | failed
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("imported_ms", BigInteger, nullable=False),
)

# A re-sent crime is a new version, recording which fields changed; versions are never updated.
crimes = Table(
    "crimes", metadata,
    Column("force", String(16), primary_key=True),
    Column("crime_ref", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("crime_type", String(32), nullable=False),
    Column("from_ms", BigInteger, nullable=False),
    Column("to_ms", BigInteger, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("location_accuracy_m", Float, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("batch", Integer, ForeignKey("crime_batches.id"), nullable=False),
    Column("changed", Text, nullable=False, default=""),  # fields that differ from the previous version
    Column("imported_ms", BigInteger, nullable=False),
    Index("ix_crimes_time", "from_ms", "to_ms"),
)

# A correlation run is kept with its parameters and engine version; runs are never erased.
correlation_runs = Table(
    "correlation_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_ms", BigInteger, nullable=False),
    Column("engine_version", String(64), nullable=False),
    Column("params", Text, nullable=False),  # JSON
    Column("n_crimes", Integer, nullable=False),
    Column("n_subjects", Integer, nullable=False),
    Column("n_matches", Integer, nullable=False),
    Column("n_significant", Integer, nullable=False),
)

matches = Table(
    "matches", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("correlation_runs.id"), nullable=False, index=True),
    Column("force", String(16), nullable=False),
    Column("crime_ref", String(64), nullable=False),
    Column("crime_version", Integer, nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("evidence", String(16), nullable=False),
    Column("closest_m", Float, nullable=False),
    Column("closest_ms", BigInteger, nullable=False),
    Column("first_within_ms", BigInteger),
    Column("last_within_ms", BigInteger),
    Column("within_s", Float, nullable=False),
    Column("speed_mps", Float),
    Column("heading_deg", Float),
    Column("score", Float, nullable=False),
    Column("parts", Text, nullable=False),  # JSON: the score's parts
    Column("significant", Integer, nullable=False),
)

# What people decided about a match, appended, never updated: a caseworker qualifies it
# (confirms it is worth sharing) or rejects it, a supervisor authorises sharing it with a
# police force, and it is shared. The evidence pack names these people.
MATCH_ACTIONS = ("qualified", "rejected", "authorised", "shared", "withdrawn")
match_reviews = Table(
    "match_reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("match_id", Integer, ForeignKey("matches.id"), nullable=False, index=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(16), nullable=False),  # one of MATCH_ACTIONS
    Column("force", String(16)),  # the police force it is shared with (authorised / shared)
    Column("note", Text, nullable=False, default=""),
)

# Transdermal alcohol readings (docs/alcohol.md): identified by (device, ts) like fixes, so a
# re-sent upload changes nothing; the tag's own integrity sensors are kept beside the reading.
alcohol_readings = Table(
    "alcohol_readings", metadata,
    Column("device_id", String(64), primary_key=True),
    Column("ts_ms", BigInteger, primary_key=True),
    Column("tac_g_dl", Float, nullable=False),  # transdermal alcohol concentration, g/dL
    Column("skin_temp_c", Float),
    Column("ir_distance_mm", Float),  # the infrared sensor's distance to the skin
    Column("tamper", Integer, nullable=False, default=0),  # 1: the strap reports tamper
    Column("received_ms", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# What became of a match shared with police, recorded by that force; appended, the latest per
# match is the current one (a charge can later become a conviction).
MATCH_OUTCOMES = ("charged", "convicted", "no further action", "eliminated")
match_outcomes = Table(
    "match_outcomes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("match_id", Integer, ForeignKey("matches.id"), nullable=False, index=True),
    Column("outcome", String(24), nullable=False),  # one of MATCH_OUTCOMES
    Column("outcome_on", String(10), nullable=False),  # the date it happened, YYYY-MM-DD (Europe/London)
    Column("force", String(64), nullable=False),
    Column("actor", Text, nullable=False),
    Column("ts_ms", BigInteger, nullable=False),  # when it was recorded
    Column("note", Text, nullable=False, default=""),
)

# Area crime statistics (police.uk street-level files). One force's month is the unit of
# import: a later file holding it replaces its rows, and the same file again changes nothing.
area_files = Table(
    "area_files", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("no_location", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("imported_ms", BigInteger, nullable=False),
)

area_months = Table(
    "area_months", metadata,
    Column("reported_by", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM
    Column("file_id", Integer, ForeignKey("area_files.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
)

area_crimes = Table(
    "area_crimes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", Integer, ForeignKey("area_files.id"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("reported_by", String(64), nullable=False),
    Column("falls_within", String(64)),
    Column("crime_id", String(64)),  # police.uk leaves it blank for anti-social behaviour
    Column("lon", Float),  # null: police.uk could not map it (kept, counted by LSOA)
    Column("lat", Float),
    Column("location", Text),
    Column("lsoa_code", String(9)),
    Column("lsoa_name", Text),
    Column("crime_type", String(40), nullable=False),
    Column("outcome", Text),
    Column("context", Text),
    Index("ix_area_crimes_month", "reported_by", "month"),
    Index("ix_area_crimes_lsoa", "lsoa_code", "month"),
)

# People who use the web service. Passwords are argon2 hashes; a disabled user keeps
# their row (the audit log names them) but can no longer log in.
ROLES = ("monitoring", "probation", "police", "evaluator", "admin", "gateway")
users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),  # one of ROLES
    Column("force", String(16)),  # police users: the force whose shared matches they see
    Column("created_ms", BigInteger, nullable=False),
    Column("disabled_ms", BigInteger),
)

# Failed logins per key ("addr:IP" or "user:NAME@IP"): kept in the store so a restart does not
# reset them; each key's back-off doubles with every failure past its allowance.
login_failures = Table(
    "login_failures", metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_ms", BigInteger, nullable=False),
    Column("blocked_until_ms", BigInteger, nullable=False),
)

# A probation officer's caseload: the only subjects they may see.
caseloads = Table(
    "caseloads", metadata,
    Column("username", String(64), ForeignKey("users.username"), primary_key=True),
    Column("subject_id", String(64), ForeignKey("subjects.id"), primary_key=True),
    Column("assigned_ms", BigInteger, nullable=False),
)

# Append-only and hash-chained: each entry's hash covers its fields and the previous
# entry's hash, so an edited or deleted entry breaks the chain (tagwatch audit verify).
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(48), nullable=False),  # e.g. read_track, alert_acknowledge, order_vary
    Column("subject_ids", Text, nullable=False, default=""),  # comma-separated
    Column("from_ms", BigInteger),  # the time range of location data read
    Column("to_ms", BigInteger),
    Column("purpose", Text, nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),  # JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Each device's secret, as a SHA-256 digest (the keys are random 128-bit values, so a plain
# digest is enough; the key itself is shown once, at issue). OsmAnd reports must carry it.
# A table of its own so that existing stores get it from create_all.
device_keys = Table(
    "device_keys", metadata,
    Column("device_id", String(64), ForeignKey("devices.id"), primary_key=True),
    Column("key_sha256", String(64), nullable=False),
    Column("issued_ms", BigInteger, nullable=False),
    Column("generation", Integer, nullable=False, default=1),  # 1 at issue, +1 per rotation
)

# Reoffending studies (docs/analytics.md, Proven reoffending). Proven offences per person (tagged
# subjects and the comparison pool alike, by the person id of the file); the same offence again is
# skipped. Dates are calendar dates, YYYY-MM-DD.
proven_offences = Table(
    "proven_offences", metadata,
    Column("person_id", String(64), primary_key=True),
    Column("offence_date", String(10), primary_key=True),
    Column("disposal_date", String(10), primary_key=True),
    Column("offence_type", String(64), primary_key=True),
    Column("disposal", String(16), nullable=False),  # conviction | caution
    Column("source", Text, nullable=False),
)

# The people of a study: the tagged (group gps or alcohol) and the comparison pool (group
# comparison), with their start date (release or sentence) and covariates. A later file's row
# for the same person replaces theirs.
cohort_people = Table(
    "cohort_people", metadata,
    Column("person_id", String(64), primary_key=True),
    Column("grp", String(16), nullable=False),  # comparison | gps | alcohol
    Column("start_date", String(10), nullable=False),
    Column("age", Float, nullable=False),
    Column("male", Float, nullable=False),
    Column("index_offence", Text, nullable=False, default=""),
    Column("prior_offences", Integer, nullable=False),
    Column("ogrs", Float),  # a risk score such as OGRS, where available
    Column("source", Text, nullable=False),
)
