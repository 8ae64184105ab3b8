"""Phrase packs: every sentence coach says in one language, read from coach/plan/phrases/<language>.toml."""

from __future__ import annotations

import functools
import re
import string
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Mapping

from coach.errors import CoachError
from coach.i18n import _

REFERENCE = "en"  # the pack every other pack must match, key for key
CATEGORIES = ("zero", "one", "two", "few", "many", "other")  # CLDR plural categories
OPTIONAL_CATEGORIES = ("few", "many")  # a pack may leave these to "other"
EXACT = re.compile(r"=\d+")  # a plural form for exactly this number, as in ICU: "=2" = "twice"

Phrase = str | Mapping[str, str]  # a sentence, or its plural forms chosen by {n}


@dataclass(frozen=True)
class Pack:
    """One language's phrases, number words and the CLDR locale whose plural and list rules they follow."""

    language: str
    locale: str
    phrases: Mapping[str, Phrase]
    numbers: Mapping[str, Mapping[int, str]]  # {n:NAME} says n as numbers[NAME][n] when it is there
    side_as_given: tuple[str, ...]  # sides starting with one of these are said as written
    path: str


def _folder():
    return resources.files("coach.plan") / "phrases"


def pack_languages() -> list[str]:
    """The languages coach has a phrase pack for."""
    return sorted(p.name[:-5] for p in _folder().iterdir() if p.name.endswith(".toml"))


def pack_language(language: str) -> str | None:
    """The pack for a language code: its own, else its base language's ("fr-ca" -> "fr"), else None."""
    code = language.strip().lower().replace("_", "-")
    available = pack_languages()
    for candidate in (code, code.split("-")[0]):
        if candidate in available:
            return candidate
    return None


@functools.cache
def load_pack(language: str) -> Pack:
    """The phrase pack of a language coach has one for (see pack_language); CoachError if it is broken."""
    path = f"coach/plan/phrases/{language}.toml"
    try:
        doc = tomllib.loads((_folder() / f"{language}.toml").read_text(encoding="utf-8"))
        pack = Pack(
            language=language,
            locale=doc["locale"],
            phrases=doc["phrases"],
            numbers={name: _number_table(table) for name, table in doc.get("numbers", {}).items()},
            side_as_given=tuple(doc.get("side_as_given", ())),
            path=path,
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CoachError(_("{path}: broken phrase pack ({kind}: {reason})").format(path=path, kind=type(exc).__name__, reason=exc)) from None
    problems = check_pack(pack, None if language == REFERENCE else load_pack(REFERENCE))
    if problems:
        raise CoachError(f"{path}: {problems[0]}")
    return pack


def _number_table(table) -> dict[int, str]:
    """A list (index = number) or a table keyed by number."""
    items = enumerate(table) if isinstance(table, list) else ((int(k), v) for k, v in table.items())
    return {number: str(word) for number, word in items}


def required_categories(locale: str) -> set[str]:
    """The plural categories a pack for `locale` must write out: CLDR's, but few and many may fall back to other."""
    from coach.plan.cldr import plural_categories

    return plural_categories(locale) - set(OPTIONAL_CATEGORIES)


def fields(template: str) -> list[tuple[str, str]]:
    """The placeholders of a template: (name, format spec) for each {name:spec}."""
    return [(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None]


def forms(phrase: Phrase) -> list[str]:
    """Every template of a phrase."""
    return [phrase] if isinstance(phrase, str) else list(phrase.values())


def check_pack(pack: Pack, reference: Pack | None) -> list[str]:
    """What is wrong with a pack, one line each: keys, plural forms, placeholders and number words."""
    problems = []
    needed = required_categories(pack.locale)
    for key, phrase in pack.phrases.items():
        if isinstance(phrase, str):
            continue
        if not isinstance(phrase, Mapping) or not all(isinstance(v, str) for v in phrase.values()):
            problems.append(f"{key}: is neither a text nor a table of plural forms")
            continue
        unknown = [c for c in phrase if c not in CATEGORIES and not EXACT.fullmatch(c)]
        if unknown:
            problems.append(f"{key}: {unknown[0]!r} is not a plural category ({', '.join(CATEGORIES)}) or =N")
        missing = sorted(needed - set(phrase))
        if missing:
            problems.append(f"{key}: no {missing[0]!r} form, which {pack.locale} needs")
    for key, phrase in pack.phrases.items():
        for template in forms(phrase) if isinstance(phrase, (str, Mapping)) else ():
            try:
                for name, spec in fields(template):
                    if spec and spec.lower() not in pack.numbers:
                        problems.append(f"{key}: {{{name}:{spec}}} names no [numbers] table")
            except ValueError as exc:
                problems.append(f"{key}: {exc}")
    if reference is not None and not problems:
        problems += _compare(pack, reference)
    return problems


def _compare(pack: Pack, reference: Pack) -> list[str]:
    """Differences from the reference pack: missing and unknown keys, texts where tables belong, stray placeholders."""
    problems = [f"{key}: missing (it is in {reference.path})" for key in reference.phrases if key not in pack.phrases]
    problems += [f"{key}: unknown phrase (not in {reference.path})" for key in pack.phrases
                 if key not in reference.phrases]
    for key, phrase in reference.phrases.items():
        own = pack.phrases.get(key)
        if own is None:
            continue
        if isinstance(own, str) != isinstance(phrase, str):
            shape = "a text" if isinstance(phrase, str) else "a table of plural forms"
            problems.append(f"{key}: must be {shape}, as in {reference.path}")
            continue
        allowed = {name for template in forms(phrase) for name, _ in fields(template)}
        for template in forms(own):
            stray = [name for name, _ in fields(template) if name not in allowed]
            if stray:
                problems.append(f"{key}: unknown placeholder {{{stray[0]}}} (known: {', '.join(sorted(allowed))})")
    return problems
