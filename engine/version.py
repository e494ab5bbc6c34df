"""The engine's version, in a module of its own so anything can read it without importing more."""

__version__ = "0.1.0"
