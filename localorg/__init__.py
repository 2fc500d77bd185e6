"""The embedded local org: SQLite record store, offline flow runtime, scenario runner.

`localorg.backend.Org` is the entry point; see its module docstring for the public API.
"""
