"""Crime-scene correlation: does a tagged person's track explain a reported crime's place and time?"""

from .match import ENGINE_VERSION, CrimeSite, MatchParams, TrackMatch, match_track

__all__ = ["ENGINE_VERSION", "CrimeSite", "MatchParams", "TrackMatch", "match_track"]
