"""Data management: versioned datasets, validation against suites, the feature store.

Every dataset version's rows live in the workspace database as the table
``data."<name>@v<N>"`` (schema ``data``); the catalogue tables describe them.
"""
