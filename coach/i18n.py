"""coach's own words on screen in the user's language: gettext catalogs chosen from the locale.

Every message coach prints goes through `_()` (or `ngettext` when it counts something). The catalogs
are coach/locale/<lang>/LC_MESSAGES/coach.po, compiled to .mo beside them when coach is installed or
bootstrapped; a .po newer than its .mo (one being edited) is compiled on first use instead.
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
import os
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Iterator

DOMAIN = "coach"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"
_ENV_KEYS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_cache: dict[tuple, tuple[str, _gettext.NullTranslations]] = {}
_forced: list[tuple[str, _gettext.NullTranslations]] = []  # use_language() / use_translations(), innermost last


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is written; it is translated later, where it is shown."""
    return message


def _locale_names(environ) -> list[str]:
    """The locale names the user asks for, most wanted first, as GNU gettext reads the environment."""
    locale = next((environ[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(k)), "")
    if locale.split(".")[0] in ("", "C", "POSIX"):
        return []  # GNU gettext ignores LANGUAGE under the C locale: LANG=C stays English
    return [name for name in environ.get("LANGUAGE", "").split(":") if name] + [locale]


def _split(name: str) -> tuple[str, str | None]:
    """'fr_FR.UTF-8@euro' -> ('fr', 'FR'); 'pt-BR' -> ('pt', 'BR')."""
    base = name.split(".")[0].split("@")[0].replace("-", "_")
    lang, _, territory = base.partition("_")
    return lang.lower(), (territory.upper() or None)


def available_languages() -> list[str]:
    """The languages coach's on-screen text is in: English and each catalog in the package."""
    found = sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()) \
        if LOCALE_DIR.is_dir() else []
    return [SOURCE_LANGUAGE] + [lang for lang in found if lang != SOURCE_LANGUAGE]


def locale_language(environ=None) -> str | None:
    """The user's language from LANGUAGE, LC_ALL, LC_MESSAGES and LANG ('fr'), or None under C/POSIX."""
    names = _locale_names(os.environ if environ is None else environ)
    return _split(names[0])[0] if names else None


def user_languages(environ=None) -> list[str]:
    """The user's languages from the locale in order of preference, each once ('fr', 'en'); empty under C."""
    langs: list[str] = []
    for name in _locale_names(os.environ if environ is None else environ):
        lang = _split(name)[0]
        if lang and lang not in langs:
            langs.append(lang)
    return langs


def _mo_bytes(lang: str) -> bytes | None:
    """The compiled catalog for lang, compiled now when only its .po is there or the .po is newer."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    try:
        po_mtime = po.stat().st_mtime
    except OSError:
        return mo.read_bytes() if mo.is_file() else None
    try:
        if mo.stat().st_mtime >= po_mtime:
            return mo.read_bytes()
    except OSError:
        pass
    return compile_catalog(po, mo)


def compile_catalog(po: Path, mo: Path) -> bytes:
    """po compiled with Babel, written to mo atomically when it can be (a read-only install keeps it in memory)."""
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parent.parent.name, domain=DOMAIN)
    data = io.BytesIO()
    write_mo(data, catalog, use_fuzzy=False)
    tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data.getvalue())
        os.replace(tmp, mo)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return data.getvalue()


def compile_all() -> None:
    """Every catalog in the package compiled to its .mo (bootstrap and scripts/catalogs run this)."""
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        compile_catalog(po, po.with_suffix(".mo"))


def _load(lang: str) -> _gettext.NullTranslations:
    if lang == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    import io

    data = _mo_bytes(lang)
    return _gettext.GNUTranslations(io.BytesIO(data)) if data else _gettext.NullTranslations()


def _current() -> tuple[str, _gettext.NullTranslations]:
    if _forced:
        return _forced[-1]
    key = tuple(os.environ.get(k) for k in _ENV_KEYS)  # in-process callers may change the locale between commands
    found = _cache.get(key)
    if found is None:
        have = available_languages()
        lang = next((lang for lang in user_languages() if lang in have), SOURCE_LANGUAGE)
        found = _cache[key] = (lang, _load(lang))
    return found


def language() -> str:
    """The language coach's on-screen text is in now ('en' under C or a language it has no catalog for)."""
    return _current()[0]


def _(message: str) -> str:
    """message in the user's language (as written when there is no translation)."""
    return _current()[1].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for n, by the language's own plural rule."""
    return _current()[1].ngettext(singular, plural, n)


@contextlib.contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Within the block, coach's text is in lang (the report's --language), whatever the locale says."""
    lang = lang.split("-")[0].split("_")[0].lower()
    lang = lang if lang in available_languages() else SOURCE_LANGUAGE
    with use_translations(lang, _load(lang)):
        yield


@contextlib.contextmanager
def use_translations(lang: str, translations: _gettext.NullTranslations) -> Iterator[None]:
    """Within the block, messages come from these translations (a test's pseudo-locale)."""
    _forced.append((lang, translations))
    try:
        yield
    finally:
        _forced.remove((lang, translations))


# --- numbers, dates and lists the way the language writes them ---------------------------------------------


def _babel_locale() -> str:
    lang = language()
    return lang if lang in available_languages() else SOURCE_LANGUAGE


def format_list(items: Iterable[str], style: str = "standard") -> str:
    """Items joined as the language lists them: 'a, b and c' ('a, b et c'), style 'or' for alternatives.

    English keeps coach's own way: 'a, b and c', 'a, b or c', no comma before the last.
    """
    items = [str(i) for i in items]
    if len(items) < 2:
        return "".join(items)
    if language() == SOURCE_LANGUAGE:
        word = "or" if style == "or" else "and"
        return f"{', '.join(items[:-1])} {word} {items[-1]}"
    from babel.lists import format_list as babel_list

    return babel_list(items, style=style, locale=_babel_locale())


def format_number(value: float, digits: int = 1, fixed: bool = False) -> str:
    """A number with at most `digits` decimals (exactly, if fixed), as the language writes it (3,5 in French)."""
    if language() == SOURCE_LANGUAGE:
        return f"{value:.{digits}f}" if fixed else f"{round(value, digits):g}"
    from babel.numbers import format_decimal

    decimals = ("0" if fixed else "#") * digits
    return format_decimal(round(value, digits), format="0." + decimals if digits else "0", locale=_babel_locale())


def format_date(moment: date | datetime, skeleton: str, english: str) -> str:
    """A date in the language's words and order (CLDR skeleton 'MMMMd', or 'full'); English keeps `english`."""
    if language() == SOURCE_LANGUAGE:
        return moment.strftime(english)
    from babel import dates

    if skeleton in ("full", "long", "medium", "short"):
        return dates.format_date(moment, format=skeleton, locale=_babel_locale())
    return dates.format_skeleton(skeleton, moment, locale=_babel_locale())


# --- the catalogs' extraction -----------------------------------------------------------------------------


def extract_with_help_texts(fileobj, keywords, comment_tags, options):
    """Babel's Python extraction, plus the command-line help texts typer shows (for scripts/babel.cfg).

    Those are the `help="..."` strings, module-level `..._HELP` texts and the docstrings of the commands
    (functions named `*_command` or decorated with `.command(...)`); the CLI translates them when it runs.
    """
    import ast
    import inspect

    from babel.messages.extract import extract_python

    data = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    tree = ast.parse(data.decode(options.get("encoding", "utf-8")))
    for node in ast.walk(tree):
        texts: list[ast.AST] = []
        if isinstance(node, ast.keyword) and node.arg == "help":
            texts.append(node.value)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id.endswith("_HELP")
                                                  for t in node.targets):
            texts.append(node.value)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorated = any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "command"
                            for d in node.decorator_list)
            docstring = ast.get_docstring(node, clean=False)
            if docstring and (decorated or node.name.endswith("_command")):
                yield node.lineno, "", inspect.cleandoc(docstring), []
        for value in texts:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value.strip():
                yield value.lineno, "", value.value, []
