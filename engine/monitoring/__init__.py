"""Monitoring: data drift as Evidently decides it, computed from DuckDB and numpy
(``drift.py``: ``engine.drift``; ``statistics.py``: the tests)."""
