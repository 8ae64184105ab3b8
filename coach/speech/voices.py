"""Voices and variants: what is installed, and which one the user means by --voice."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from coach.errors import OptionError
from coach.i18n import N_, _

DEFAULT_LANGUAGE = "en"
MIN_PITCH = 0
MAX_PITCH = 100
GENDERS = ("female", "male")
VARIANT_SEPARATOR = "+"  # espeak-ng's own syntax: "en-us+Andrea" is en-us spoken with variant Andrea

INSTALL_HINT = N_("install espeak-ng (on Debian/Ubuntu: sudo apt install espeak-ng), "
                  "or use --no-voice for a session with sounds only")  # shown through _()

# A language code as users type it: "en", "en-gb", "pt_BR", "cmn-latn-pinyin".
LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*")


@dataclass(frozen=True)
class Voice:
    """An installed voice; `languages` are codes like "en-gb", best first."""

    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None


@dataclass(frozen=True)
class Variant:
    """A voice variant (espeak-ng's "+name" suffix): a different timbre for any language voice."""

    id: str
    name: str
    gender: str | None


# --- options -------------------------------------------------------------------------------------


def validate_pitch(pitch: int) -> int:
    """The pitch if it is a whole number within 0..100, else OptionError."""
    if isinstance(pitch, bool) or not isinstance(pitch, int):
        raise OptionError("--pitch", _("must be a whole number from {low} to {high}, got {pitch}").format(
            low=MIN_PITCH, high=MAX_PITCH, pitch=repr(pitch)))
    if not MIN_PITCH <= pitch <= MAX_PITCH:
        raise OptionError("--pitch", _("{pitch} is out of range {low}..{high}").format(pitch=pitch, low=MIN_PITCH, high=MAX_PITCH))
    return pitch


def validate_language(code: str, option: str = "--language") -> str:
    """A language code such as "en" or "en-gb" (lower case), else OptionError naming option."""
    if not isinstance(code, str) or not LANGUAGE_CODE.fullmatch(code.strip()):
        raise OptionError(option, _("{code} is not a language code such as 'en' or 'en-gb'").format(code=repr(code)))
    return _norm_language(code)


def validate_gender(gender: str) -> str:
    """'female' or 'male' (any case), else OptionError."""
    if gender.strip().lower() not in GENDERS:
        raise OptionError("--gender", _("{gender} is not one of: {names}").format(gender=repr(gender), names=', '.join(GENDERS)))
    return gender.strip().lower()


def engine_variants(engine) -> list[Variant]:
    """The variants an engine offers (none for engines without the notion)."""
    variants = getattr(engine, "variants", None)
    return list(variants()) if variants is not None else []


def engine_supports_pitch(engine) -> bool:
    """Whether the engine can change its pitch."""
    return bool(getattr(engine, "supports_pitch", False))


def check_pitch_support(engine, pitch: int | None) -> None:
    """OptionError("--pitch") when a pitch is asked of an engine that cannot change it."""
    if pitch is not None and not engine_supports_pitch(engine):
        raise OptionError("--pitch", _("is not supported by this speech engine ({name})").format(name=engine.name))


# --- languages -----------------------------------------------------------------------------------


def _norm_language(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def _speaks(voice: Voice, language: str) -> bool:
    lang = _norm_language(language)
    return any(
        (code := _norm_language(c)) == lang or code.startswith(lang + "-") for c in voice.languages
    )


def filter_voices(voices: Iterable[Voice], language: str | None) -> list[Voice]:
    """The voices that speak `language` or a dialect of it (all of them for None)."""
    if not language:
        return list(voices)
    return [v for v in voices if _speaks(v, language)]


def _language_rank(voice: Voice, language: str) -> int | None:
    """How well a voice fits a language code: lower is better, None is not at all."""
    lang = _norm_language(language)
    codes = [_norm_language(c) for c in voice.languages]
    if voice.id.lower().rsplit("/", 1)[-1] == lang:
        return 0  # espeak's main voice for a language is named after it ("gmw/en", "roa/fr")
    if codes and codes[0] == lang:
        return 1
    if lang in codes:
        return 2 + codes.index(lang)
    if any(c.startswith(lang + "-") for c in codes):
        return 100
    return None


def best_voice_for(voices: Iterable[Voice], language: str) -> Voice | None:
    """The best voice for a language code: an exact match, else a dialect of it."""
    ranked = [
        (rank, len(v.id), i, v)
        for i, v in enumerate(voices)
        if (rank := _language_rank(v, language)) is not None
    ]
    return min(ranked)[3] if ranked else None


# --- variants ------------------------------------------------------------------------------------


def with_variant(voice: Voice, variant: Variant) -> Voice:
    """`voice` spoken with `variant`: id "gmw/en-us+Andrea", the variant's gender."""
    return Voice(
        id=f"{voice.id}{VARIANT_SEPARATOR}{variant.id}",
        name=f"{voice.name} + {variant.name}",
        languages=voice.languages,
        gender=variant.gender or voice.gender,
    )


def short_name(voice: Voice) -> str:
    """The part of a voice's name a person would call it by: the variant's name if it has one."""
    return voice.name.rpartition(" + ")[2]


def _exact_variant(variants: Sequence[Variant], query: str) -> Variant | None:
    q = query.strip()
    for found in ([v for v in variants if v.id == q],
                  [v for v in variants if v.id.lower() == q.lower()],
                  [v for v in variants if v.name.lower() == q.lower()]):
        if len(found) == 1:
            return found[0]
    return None


def _partial_variants(variants: Sequence[Variant], query: str) -> list[Variant]:
    q = query.strip().lower()
    return [v for v in variants if q in v.id.lower() or q in v.name.lower()]


def _variant_label(variant: Variant) -> str:
    return variant.id if variant.name.lower() == variant.id.lower() else f"{variant.id} ({variant.name})"


def _pick_variant(variants: Sequence[Variant], query: str) -> Variant:
    exact = _exact_variant(variants, query)
    if exact is not None:
        return exact
    partial = _partial_variants(variants, query)
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise OptionError("--voice", _("variant {query} matches several; did you mean: {listing}?").format(query=repr(query), listing=_listing(partial)))
    raise OptionError("--voice", _("no variant matches {query}; {suggest}").format(query=repr(query), suggest=_suggest(query, [], variants)))


# --- choosing ------------------------------------------------------------------------------------


def _listing(items: Sequence[Voice | Variant], limit: int = 6) -> str:
    names = [v.name if isinstance(v, Voice) else _variant_label(v) for v in items]
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def _suggest(query: str, voices: Sequence[Voice], variants: Sequence[Variant] = ()) -> str:
    labels: dict[str, list[str]] = {}  # what a query may resemble -> what we suggest for it
    for v in voices:
        # "French" should find "French (France)", "French (Belgium)", ...
        for label, shown in ((v.id, v.id), (v.name, v.name), (v.name.split(" (")[0], v.name)):
            labels.setdefault(label.lower(), []).append(shown)
    for variant in variants:
        for label in (variant.id, variant.name):
            labels.setdefault(label.lower(), []).append(_variant_label(variant))
    close = difflib.get_close_matches(query.lower(), list(labels), n=3, cutoff=0.6)
    names = list(dict.fromkeys(name for c in close for name in labels[c]))[:5]
    if not names:
        return _("run `coach voices` to list the installed voices")
    return _("did you mean: {names}?").format(names=", ".join(names))


def _best_or_fail(voices: Sequence[Voice], language: str) -> Voice:
    voice = best_voice_for(voices, language or DEFAULT_LANGUAGE)
    if voice is None:
        raise OptionError(
            "--voice",
            _("no installed voice speaks language {language}; choose one with --voice (see `coach voices`)").format(
                language=repr(language)),
        )
    return voice


def pick_voice(
    voices: Iterable[Voice],
    query: str | None,
    language: str = DEFAULT_LANGUAGE,
    variants: Iterable[Variant] = (),
) -> Voice:
    """The voice `query` names, or the best for `language`.

    A query is an id, a name, a unique part of a name, a language code, a variant name (spoken
    in `language`), or a voice and a variant joined by "+" ("en-us+Andrea").
    """
    voices, variants = list(voices), list(variants)
    if not voices:
        raise OptionError("--voice", _("no voices are installed; {hint}").format(hint=_(INSTALL_HINT)))
    if query is None or not query.strip():
        return _best_or_fail(voices, language)
    q = query.strip()
    for v in voices:
        if v.id == q:
            return v
    for key in (lambda v: v.id.lower(), lambda v: v.name.lower()):
        exact = [v for v in voices if key(v) == q.lower()]
        if len(exact) == 1:
            return exact[0]
    if variants and VARIANT_SEPARATOR in q:
        base, _sep, variant = q.partition(VARIANT_SEPARATOR)
        return with_variant(pick_voice(voices, base or None, language), _pick_variant(variants, variant))
    if LANGUAGE_CODE.fullmatch(q):
        voice = best_voice_for(voices, q)
        if voice is not None:
            return voice
    variant = _exact_variant(variants, q)
    if variant is not None:
        return with_variant(_best_or_fail(voices, language), variant)
    partial: list[Voice | Variant] = [v for v in voices if q.lower() in v.name.lower()]
    partial += _partial_variants(variants, q)
    if len(partial) == 1:
        found = partial[0]
        return found if isinstance(found, Voice) else with_variant(_best_or_fail(voices, language), found)
    if partial:
        raise OptionError("--voice", _("{query} matches several voices; did you mean: {listing}?").format(query=repr(q), listing=_listing(partial)))
    raise OptionError("--voice", _("no voice matches {query}; {suggest}").format(query=repr(q), suggest=_suggest(q, voices, variants)))


def variant_voices(voices: Sequence[Voice], variants: Sequence[Variant], language: str) -> list[Voice]:
    """Each variant combined with the best voice for `language` (none if no voice speaks it)."""
    base = best_voice_for(voices, language)
    if base is None:
        return []
    return [with_variant(base, v) for v in sorted(variants, key=lambda v: v.id.lower())]
