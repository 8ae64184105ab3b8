"""The command line: a module per command group, shared.py for what several share, app.py putting them together."""
