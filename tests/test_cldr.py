"""CLDR rules from the cache file say exactly what Babel says, and the cache mends or does without its file."""

from __future__ import annotations

import json

import pytest
from babel import Locale
from babel.lists import format_list as babel_format_list

from coach.plan import cldr
from coach.plan.phrases import load_pack, pack_languages

LOCALES = sorted({load_pack(code).locale for code in pack_languages()})
NUMBERS = [0, 1, 2, 3, 4, 5, 11, 21, 100, 1000000, 1.5, 0.5, 2.25]


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """No facts remembered in this process, and the cache file in a folder of the test's own."""
    store = tmp_path / "cache" / "cldr.json"
    monkeypatch.setattr(cldr, "_store", lambda: store)
    for cached in (cldr._facts, cldr.plural_rule):
        cached.cache_clear()
    yield store
    for cached in (cldr._facts, cldr.plural_rule):
        cached.cache_clear()


@pytest.mark.parametrize("locale", LOCALES)
def test_rules_from_the_file_agree_with_babel(fresh, locale):
    cldr.plural_rule(locale)  # the first use asks Babel and writes the file
    assert locale in json.loads(fresh.read_text(encoding="utf-8"))
    cldr._facts.cache_clear()
    cldr.plural_rule.cache_clear()
    babel_rule = Locale.parse(locale).plural_form
    assert [cldr.plural_rule(locale)(n) for n in NUMBERS] == [babel_rule(n) for n in NUMBERS]
    assert cldr.plural_categories(locale) == set(babel_rule.tags) | {"other"}
    for count in range(5):
        items = ["toe presses", "heel raises", "ankle circles", "toe walking"][:count]
        assert cldr.format_list(items, locale) == babel_format_list(items, locale=locale)


def test_a_damaged_file_is_read_from_babel_again_and_mended(fresh):
    fresh.parent.mkdir(parents=True)
    fresh.write_text('{"en_GB": {"plural": {}, "list": {"2": "{0} & {1}"}}, "fr": "junk"', encoding="utf-8")
    assert cldr.format_list(["a", "b", "c"], "en_GB") == "a, b and c"
    assert json.loads(fresh.read_text(encoding="utf-8"))["en_GB"]["list"]["end"] == "{0} and {1}"


def test_a_cache_folder_that_cannot_be_made_costs_only_the_speed(fresh):
    fresh.parent.parent.mkdir(parents=True, exist_ok=True)
    fresh.parent.write_text("a file where the folder should be", encoding="utf-8")
    assert cldr.plural_rule("fr")(1.5) == "one"
    assert cldr.format_list(["a", "b"], "fr") == "a et b"
