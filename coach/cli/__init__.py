"""The command line: the typer app (app.main) and one module per command group (config, log, voice, runner)."""
