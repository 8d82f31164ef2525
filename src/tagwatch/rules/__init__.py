"""Order-condition and tag-health rules: pure functions from tracks to episodes."""

from .engine import evaluate_subject, version_spans
from .runs import Runs, find_episodes
from .settings import DEFAULT_SETTINGS, NAIVE_SETTINGS, RuleSettings
from .track import Track

__all__ = ["evaluate_subject", "version_spans", "find_episodes", "Runs", "RuleSettings",
           "DEFAULT_SETTINGS", "NAIVE_SETTINGS", "Track"]
