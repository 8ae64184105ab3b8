"""The command line's own words in the user's language: help texts, and what typer and click say themselves."""

from __future__ import annotations

import re
import sys

from coach.i18n import N_, _, ngettext

# What typer (and its own copy of click) print themselves in coach's help and usage errors. Some ask
# gettext's default domain, which translate_libraries() sends to coach's catalogs; the others are
# written in English in typer's code: usage_message() matches those, _patch_help_words() the help's.
LIBRARY_MESSAGES = (
    N_("Arguments"), N_("Options"), N_("Commands"), N_("Error"), N_("[required]"), N_("required"),
    N_("[default: {}]"), N_("default: {default}"), N_("(dynamic)"), N_("Aborted!"), N_("Aborted."),
    N_("Missing command."), N_("No such command {name!r}."), N_("Try [blue]'{command_path} {help_option}'[/] for help."),
)
_USAGE_ERRORS = (  # typer's English, matched whole, as the message that says it
    (re.compile(r"Missing argument (?P<name>.*)\.$"), N_("Missing argument {name}.")),
    (re.compile(r"Missing option (?P<name>.*)\.$"), N_("Missing option {name}.")),
    (re.compile(r"Missing parameter (?P<name>.*)\.$"), N_("Missing parameter {name}.")),
    (re.compile(r"No such option: (?P<name>\S+)$"), N_("No such option: {name}")),
    (re.compile(r"No such option: (?P<name>\S+) \(Possible options: (?P<options>.*)\)$"),
     N_("No such option: {name} (Possible options: {options})")),
    (re.compile(r"Got unexpected extra argument\(s\) \((?P<args>.*)\)$"), N_("Got unexpected extra argument(s) ({args})")),
    (re.compile(r"Option (?P<name>'[^']*') requires an argument\.$"), N_("Option {name} requires an argument.")),
    (re.compile(r"Option (?P<name>'[^']*') does not take a value\.$"), N_("Option {name} does not take a value.")),
    (re.compile(r"Invalid value for (?P<name>.*?): (?P<value>'.*') is not a valid (?P<kind>int|float|integer)\.$"),
     N_("Invalid value for {name}: {value} is not a valid {kind}.")),
    (re.compile(r"Invalid value for (?P<name>.*?): (?P<value>.*) is not in the range (?P<range>.*)\.$"),
     N_("Invalid value for {name}: {value} is not in the range {range}.")),
    (re.compile(r"Invalid value for (?P<name>.*?): (?P<message>.*)$"), N_("Invalid value for {name}: {message}")),
)
_HELP_OPTION = N_("Show this message and exit.")
_USAGE = N_("Usage:")
_PANEL_TITLES = {"ARGUMENTS_PANEL_TITLE": "Arguments", "OPTIONS_PANEL_TITLE": "Options",
                 "COMMANDS_PANEL_TITLE": "Commands", "ERRORS_PANEL_TITLE": "Error",
                 "REQUIRED_LONG_STRING": "[required]", "DEFAULT_STRING": "[default: {}]",
                 "ABORTED_TEXT": "Aborted.", "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help."}


def translate_libraries() -> None:
    """typer's and click's words from coach's catalogs, in the language of the moment."""
    import typer.core

    # typer carries its own copy of click (typer._click); the modules it has loaded are those in use
    modules = [m for name, m in list(sys.modules.items()) if name.startswith("typer._click.") and m is not None]
    for module in (*modules, typer.core):
        if hasattr(module, "_"):
            module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    _patch_help_words()


def _translate_rich_words() -> None:
    # typer.rich_utils (rich's console, 70 ms to import) is loaded only to show help or an error panel
    import typer.rich_utils

    typer.rich_utils._ = _  # type: ignore[attr-defined]
    for name, message in _PANEL_TITLES.items():  # typer reads these once, when it is imported
        setattr(typer.rich_utils, name, _(message))


def _patch_help_words() -> None:
    """typer's help option and usage line, which it writes in English, in the language of the moment."""
    import typer.core
    from typer._click import decorators, formatting

    if getattr(decorators.help_option, "_coach", False):
        return
    for cls in (typer.core.TyperCommand, typer.core.TyperGroup):
        cls.format_help = _with_rich_words(cls.format_help)  # type: ignore[method-assign]
    english_help_option, english_write_usage = decorators.help_option, formatting.HelpFormatter.write_usage

    def help_option(*param_decls, **kwargs):
        add = english_help_option(*param_decls, **kwargs)

        def decorator(command):
            result = add(command)
            params = getattr(command, "params", None) or getattr(command, "__click_params__", [])
            if params:
                params[-1].help = _(_HELP_OPTION)
            return result
        return decorator

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        english_write_usage(self, prog, args, _(_USAGE) + " " if prefix is None else prefix)

    help_option._coach = True  # type: ignore[attr-defined]
    decorators.help_option = help_option
    formatting.HelpFormatter.write_usage = write_usage  # type: ignore[method-assign]


def _with_rich_words(format_help):
    def translated(self, ctx, formatter):
        _translate_rich_words()
        return format_help(self, ctx, formatter)
    return translated


def usage_message(text: str) -> str:
    """A usage error typer wrote in English, in the user's language (as it is when it is not one coach knows)."""
    for pattern, message in _USAGE_ERRORS:
        found = pattern.match(text)
        if found:
            return _(message).format(**{k: v for k, v in found.groupdict().items() if v is not None})
    return text


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
