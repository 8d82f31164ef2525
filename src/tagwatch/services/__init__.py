"""Use cases: the only layer that wires the store to the pure core.

The CLI (``tagwatch.cli``) and the web API (``tagwatch.api``) call these modules and nothing else
that writes; each use case takes the clock as an argument (``now_ms``) so that tests and
simulations control time. One module per family: ``enrolment``, ``ingest``, ``evaluation``,
``correlation``, ``alcohol``, ``areas``, ``programme``, ``outcomes``, ``users``, ``audit``,
``changes``, ``views``, ``evidence``.
"""
