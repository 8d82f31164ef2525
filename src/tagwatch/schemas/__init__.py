"""JSON Schemas of tagwatch's file formats (documented in docs/formats.md)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

__all__ = ["load_schema"]


@cache
def load_schema(name: str) -> dict:
    return json.loads(files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))
