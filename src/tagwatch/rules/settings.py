"""Every threshold of the rules, typed, named and documented (docs/rules.md says why)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

__all__ = ["RuleSettings", "DEFAULT_SETTINGS", "NAIVE_SETTINGS"]


@dataclass(frozen=True, slots=True)
class RuleSettings:
    # --- zone rules (exclusion, curfew, attendance) ---
    dwell_s: int = 120
    """Violating evidence must span at least this long before a breach is confirmed."""
    min_fixes: int = 3
    """...and come from at least this many fixes: one or two drifting fixes never alert."""
    dwell_gap_s: int = 300
    """Violating fixes further apart than this do not add up towards the dwell."""
    exit_s: int = 300
    """Hysteresis: a breach goes on until no violating fix has been seen for this long."""
    accuracy_factor: float = 1.0
    """The disc judged is this multiple of the reported accuracy (0 judges the point alone)."""
    default_accuracy_m: float = 30.0
    """Accuracy assumed for a fix that reports none (a typical urban GPS figure)."""
    boundary_margin_m: float = 0.0
    """Extra metres the accuracy disc must clear the boundary by, on top of the accuracy."""
    attendance_min_s: int = 600
    """An attendance counts when presence is confirmed for at least this long in the window."""
    # --- tag health ---
    low_battery_pct: float = 20.0
    """A reading below this opens a low-battery alert..."""
    battery_recovered_pct: float = 25.0
    """...which closes at the first reading at or above this (hysteresis against flicker)."""
    no_fix_s: int = 900
    """The tag reports but gives no position for longer than this: no_fix."""
    no_comms_s: int = 1800
    """Nothing received from the tag for longer than this: no_comms."""

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def with_overrides(self, **overrides: float) -> RuleSettings:
        unknown = set(overrides) - set(self.names())
        if unknown:
            raise ValueError(f"unknown rule settings: {', '.join(sorted(unknown))}; known: {', '.join(self.names())}")
        # Keep each setting's type (ints stay ints: they feed integer millisecond arithmetic).
        typed = {k: type(getattr(self, k))(v) for k, v in overrides.items()}
        return replace(self, **typed)


DEFAULT_SETTINGS = RuleSettings()

# What a straightforward implementation does: each fix judged as a point, no dwell; fixes
# a minute apart still form one episode. The demo scores it beside the defaults.
NAIVE_SETTINGS = RuleSettings(dwell_s=0, min_fixes=1, exit_s=60, accuracy_factor=0.0)
