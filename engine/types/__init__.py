"""The plain types that cross the facade: requests the faces build, results services return.

Each module here holds the types of one area and imports no service, no database and no
heavy library, so a face (the console, the CLI, later the host's clients) can name a result
without loading the code that produces it. Services import their types from here; the
import-linter contracts in pyproject.toml keep this package at the bottom of the engine.
"""
