"""The Textual console: screens over the engine facade, never over its internals.

See docs/console.md for the conventions every screen follows.
"""
