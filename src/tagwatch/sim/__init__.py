"""Synthetic pilots with ground truth, and the scorer that compares alerts with it."""

from .generate import SimSummary, simulate
from .score import Score, score

__all__ = ["simulate", "SimSummary", "score", "Score"]
