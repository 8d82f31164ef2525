"""Every threshold of the alcohol rules, typed, named and documented (docs/alcohol.md says why)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

__all__ = ["AlcoholSettings", "DEFAULT_ALCOHOL_SETTINGS"]


@dataclass(frozen=True, slots=True)
class AlcoholSettings:
    # --- drinking events (the curve) ---
    threshold_g_dl: float = 0.020
    """A drinking event needs a peak transdermal alcohol concentration at or above this."""
    zero_g_dl: float = 0.005
    """Readings at or below this count as no alcohol: a curve is a run of readings above it."""
    min_readings: int = 4
    """The curve must last at least this many readings above zero (two hours at 30 minutes)."""
    absorption_min_g_dl_h: float = 0.003
    """The rise from the last zero reading to the peak must be at least this fast..."""
    absorption_max_g_dl_h: float = 0.050
    """...and at most this fast: faster is alcohol on the sensor from outside (hand gel, spray)."""
    elimination_min_g_dl_h: float = 0.003
    """The fall from the peak to half of it must be at least this fast (slower is sensor drift)..."""
    elimination_max_g_dl_h: float = 0.025
    """...and at most this fast: the body eliminates alcohol no faster than this."""
    spike_g_dl: float = 0.015
    """A reading this far above both neighbours is a spike (alcohol on the sensor from outside)."""
    # --- integrity: obstruction, tamper, missed readings ---
    skin_temp_min_c: float = 25.0
    """A skin temperature below this means the sensor is not against skin (obstruction)..."""
    skin_temp_max_c: float = 40.0
    """...and above this, that it is being warmed by something else."""
    ir_distance_min_mm: float = 1.0
    """An infrared distance below this means something is pressed against the sensor window..."""
    ir_distance_max_mm: float = 8.0
    """...and above this, that the tag is held away from the skin."""
    obstruction_min_readings: int = 2
    """Consecutive out-of-range readings that make an obstruction (one is sensor noise)."""
    no_readings_s: int = 7200
    """Readings further apart than this are missed readings, and the day is not compliant."""
    upload_grace_s: int = 93_600
    """Readings reach the server in uploads; an open gap is judged only once it is older than this."""
    interval_s: int = 1800
    """The tag's reading interval: what a day's expected number of readings is based on."""

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def with_overrides(self, **overrides: float) -> AlcoholSettings:
        unknown = set(overrides) - set(self.names())
        if unknown:
            raise ValueError(f"unknown alcohol settings: {', '.join(sorted(unknown))}; known: {', '.join(self.names())}")
        return replace(self, **{k: type(getattr(self, k))(v) for k, v in overrides.items()})


DEFAULT_ALCOHOL_SETTINGS = AlcoholSettings()
