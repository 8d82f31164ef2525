"""Persistence behind one interface (SQLAlchemy Core): SQLite by default, PostgreSQL too."""

from .repo import Store, StoreError, open_store

__all__ = ["Store", "StoreError", "open_store"]
