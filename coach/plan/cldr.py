"""The CLDR rules coach's sentences follow (plural categories, list patterns), from Babel, kept on disk.

Babel loads a locale's whole data to answer either question: for en_GB four pickles, some 300 KB and
about 11 ms of every command's start. coach needs two small parts of it, so the first use of a locale
copies them into the cache folder (one file per Babel version, so an upgrade brings its own rules) and
later starts read them from there. Babel stays the one source of the rules.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from coach.cachedir import cache_root, keep_json


def _store() -> Path:
    import babel

    return cache_root() / f"cldr-babel-{babel.__version__}.json"


def _from_babel(locale: str) -> dict:
    from babel import Locale

    found = Locale.parse(locale)
    return {"plural": dict(found.plural_form.rules), "list": dict(found.list_patterns["standard"])}


def _well_formed(facts: object) -> bool:
    return (isinstance(facts, dict) and isinstance(facts.get("plural"), dict)
            and isinstance(facts.get("list"), dict) and {"2", "start", "middle", "end"} <= facts["list"].keys())


@functools.cache
def _facts(locale: str) -> dict:
    """The locale's plural rules and standard list patterns: from the cache file, else from Babel (then kept)."""
    store = _store()
    try:
        saved = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    if not isinstance(saved, dict):
        saved = {}
    if _well_formed(saved.get(locale)):
        return saved[locale]
    facts = saved[locale] = _from_babel(locale)
    keep_json(store, saved)  # if it cannot be kept, the next start asks Babel again
    return facts


@functools.cache
def plural_rule(locale: str) -> Callable[[float], str]:
    """The locale's CLDR plural rule: a number to its category ("one", "few", ..., "other")."""
    from babel.plural import PluralRule

    return PluralRule(_facts(locale)["plural"])


def plural_categories(locale: str) -> set[str]:
    """The plural categories the locale tells apart, "other" included."""
    return set(plural_rule(locale).tags) | {"other"}


def format_list(items: Sequence[str], locale: str) -> str:
    """Items joined the locale's way ("a, b and c"), with CLDR's standard list patterns."""
    patterns = _facts(locale)["list"]
    if len(items) < 2:
        return "".join(items)
    if len(items) == 2:
        return patterns["2"].format(*items)
    text = patterns["start"].format(items[0], items[1])
    for item in items[2:-1]:
        text = patterns["middle"].format(text, item)
    return patterns["end"].format(text, items[-1])
