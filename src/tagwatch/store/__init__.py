"""Persistence behind one interface (SQLAlchemy Core): SQLite by default, PostgreSQL too."""

from .errors import StoreError
from .repo import Store, open_store

__all__ = ["Store", "StoreError", "open_store"]
