"""The command line's own words in the user's language: help texts, and what typer and click say themselves."""

from __future__ import annotations

from coach.i18n import N_, N_plural, _, ngettext

# What typer and click print themselves in coach's help and usage errors. They ask gettext's default
# domain for these words; translate_libraries() sends them to coach's catalogs instead.
LIBRARY_MESSAGES = (
    N_("Usage:"), N_("Arguments"), N_("Options"), N_("Commands"), N_("Error"), N_("[required]"), N_("required"),
    N_("[default: {}]"), N_("default: {default}"), N_("(dynamic)"), N_("Show this message and exit."),
    N_("Aborted!"), N_("Aborted."), N_("Missing argument"), N_("Missing option"), N_("Missing parameter"),
    N_("Missing command."), N_("No such option {name!r}."), N_("No such command {name!r}."),
    N_("Invalid value for {param_hint}: {message}"), N_("Invalid value: {message}"),
    N_("{value!r} is not a valid {number_type}."), N_("{value} is not in the range {range}."),
    N_("{name} {filename!r} does not exist."), N_("{name} {filename!r} is a directory."), N_("file"),
    N_("directory"), N_("path"), N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    N_("Option {name!r} does not take a value."),
)
LIBRARY_PLURALS = (
    N_plural("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"),
    N_plural("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"),
    N_plural("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."),
    N_plural("{value!r} is not {choice}.", "{value!r} is not one of {choices}."),
    N_plural("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."),
)
_PANEL_TITLES = {"ARGUMENTS_PANEL_TITLE": "Arguments", "OPTIONS_PANEL_TITLE": "Options",
                 "COMMANDS_PANEL_TITLE": "Commands", "ERRORS_PANEL_TITLE": "Error",
                 "REQUIRED_LONG_STRING": "[required]", "DEFAULT_STRING": "[default: {}]",
                 "ABORTED_TEXT": "Aborted.", "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help."}


def _ngettext(singular: str, plural: str, n: int) -> str:
    # click passes "Did you mean" with two unrelated forms; both are in the catalogs as one plural entry
    return ngettext(singular, plural, n)


def translate_libraries() -> None:
    """typer's and click's words from coach's catalogs, in the language of the moment."""
    import click
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types
    import typer.core
    import typer.rich_utils

    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.types,
                   typer.core, typer.rich_utils):
        if hasattr(module, "_"):
            module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext  # type: ignore[attr-defined]
    for name, message in _PANEL_TITLES.items():  # typer reads these once, when it is imported
        setattr(typer.rich_utils, name, _(message))
    del click


def translate_help(command) -> None:
    """The help texts of a click command and its subcommands, translated in place (keeping the English)."""
    for owner in (command, *getattr(command, "params", ())):
        for attr in ("help", "short_help"):
            original = getattr(owner, f"_coach_{attr}", None) or getattr(owner, attr, None)
            if isinstance(original, str) and original:
                setattr(owner, f"_coach_{attr}", original)
                setattr(owner, attr, _(original))
    for sub in getattr(command, "commands", {}).values():
        translate_help(sub)
