"""Errors the store raises; a leaf module so that the Store and its record classes share them."""

from __future__ import annotations

__all__ = ["StoreError"]


class StoreError(ValueError):
    """A request the store cannot honour; the message says what to change."""
