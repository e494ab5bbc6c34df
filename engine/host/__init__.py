"""The owner of a workspace as a host: other processes run their commands through it.

DuckDB lets one process write a database file, so the process that owns a workspace (the
console, ``mlops up``, a long ``mlops train``) listens on a local endpoint and runs the
commands of other ``mlops`` processes on its own engine (``server.Host``); a command finds the
endpoint and forwards itself (``client.forward``), or runs in its own process when nothing
owns the workspace. See docs/architecture.md ("One owner, many clients").
"""
