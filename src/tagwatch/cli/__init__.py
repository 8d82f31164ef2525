"""The ``tagwatch`` command line: a thin shell over :mod:`tagwatch.services`.

Each command opens the store, calls one use case, and turns errors the user can fix into a
one-line message and exit code 2. ``app`` is the root Typer app (``tagwatch.cli.app``).
"""

from .app import app, main

__all__ = ["app", "main"]
