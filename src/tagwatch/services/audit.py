"""Use cases for the audit log: record a read or a change, list entries, verify the chain."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..store import Store
from ..store.audit import GENESIS, entry_hash

__all__ = ["record", "verify", "VerifyReport"]


def record(store: Store, actor: str, role: str, action: str, now_ms: int, subject_ids: list[str] | tuple = (),
           from_ms: int | None = None, to_ms: int | None = None, purpose: str = "",
           detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append who did what to which subjects, over which time range, and why."""
    return store.append_audit({
        "ts_ms": now_ms, "actor": actor, "role": role, "action": action,
        "subject_ids": ",".join(sorted(set(subject_ids))), "from_ms": from_ms, "to_ms": to_ms,
        "purpose": purpose, "detail": json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
    })


@dataclass
class VerifyReport:
    entries: int = 0
    head_id: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, max_problems: int = 20) -> VerifyReport:
    """Walk the chain: every entry's hash, every link, no gap in ids, and the stored head."""
    rep = VerifyReport()
    prev_id, prev_hash = 0, GENESIS

    def problem(text: str) -> None:
        if len(rep.problems) < max_problems:
            rep.problems.append(text)

    for e in store.audit_chain():
        rep.entries += 1
        if e["id"] != prev_id + 1:
            problem(f"entries {prev_id + 1}..{e['id'] - 1} are missing (deleted)")
        if e["prev_hash"] != prev_hash:
            problem(f"entry {e['id']} does not link to the entry before it (an entry was deleted or edited)")
        if entry_hash(e) != e["hash"]:
            problem(f"entry {e['id']} was edited: its contents no longer match its hash")
        prev_id, prev_hash = e["id"], e["hash"]
    head_id, head_hash = store.audit_head()
    if (head_id, head_hash) != (prev_id, prev_hash):
        problem(f"the chain ends at entry {prev_id} but the recorded head is entry {head_id}: "
                "the newest entries were deleted, or the head was changed")
    rep.head_id, rep.head_hash = prev_id, prev_hash
    return rep
