"""Puts the pipeline together: routine -> voice and clips -> plan -> mixer, for plan, export and run."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from coach.i18n import _
from coach.cachedir import keep_json
from coach.errors import OptionError
from coach.audio.levels import DEFAULT_LOUDNESS_LUFS, check_loudness
from coach.plan.model import Plan
from coach.plan.settings import Settings
from coach.plan.planner import plan
from coach.plan.phrases import pack_language, pack_languages
from coach.routine import Routine, in_language
from coach.plan.script import Script, english, for_language
from coach.speech.espeak import espeak_install
from coach.speech.engine import DEFAULT_RATE_WPM, SpeechEngine, Voice, default_engine, validate_rate
from coach.speech.voices import (best_voice_for, check_pitch_support, engine_variants, pick_voice, validate_language,
                                 validate_pitch)

if TYPE_CHECKING:
    import numpy as np

    from coach.speech.clipcache import ClipCache
    from coach.audio.clipfigures import ClipMeasures
    from coach.audio.mixer import Mixer
    from coach.streaming import Renderer, SpeechStream


@dataclass(frozen=True)
class SessionOptions:
    """What the user chose on the command line."""

    voice: str | None = None
    rate_wpm: int = DEFAULT_RATE_WPM
    no_voice: bool = False
    sounds_dir: Path | None = None
    voice_volume_pct: float = 100.0
    beep_volume_pct: float = 100.0
    pitch: int | None = None  # None: the voice's own
    language: str | None = None  # phrases, translation and default voice; None: the routine's own language
    loudness_lufs: float = DEFAULT_LOUDNESS_LUFS  # the session's integrated loudness


@dataclass
class Session:
    """A planned session, ready to be mixed: the plan, the clips and sounds, and the voice used."""

    routine: Routine
    plan: Plan
    speech: dict[str, np.ndarray]
    sounds: dict[str, np.ndarray]
    voice: Voice | None
    options: SessionOptions = field(default_factory=SessionOptions)
    language: str = "en"  # the language the session is coached in
    script: Script = field(default_factory=english)  # coach's own sentences, in that language when it can
    warnings: tuple[str, ...] = ()  # one line each, for the command to print
    lift_db: float | None = None  # the level the mixer planned (None until a mixer is made), kept by a new close
    measures: ClipMeasures | None = None  # the clips' figures and limited forms (the clip cache keeps them)
    settings: Settings | None = None  # what the plan was made with (its introduction's minutes among them)
    stream: SpeechStream | None = None  # for a live session whose sentences are still being made

    def mixer(self) -> Mixer:
        """The one timeline both sinks play."""
        return self.mixer_of(self.plan, self.speech)

    def mixer_of(self, plan: Plan, speech: dict[str, np.ndarray]) -> Mixer:
        """The timeline of `plan` (this session's, or the part of it already made) at this session's level."""
        from coach.audio.mixer import Mixer

        mixer = Mixer(plan, speech, self.sounds, self.options.voice_volume_pct / 100.0,
                      self.options.beep_volume_pct / 100.0, self.options.loudness_lufs, self.lift_db,
                      measures=self.measures)
        self.lift_db = mixer.lift_db
        return mixer


def check_volume(value: float, option: str) -> float:
    """Reject volumes outside 0-100 %."""
    if not 0 <= value <= 100:
        raise OptionError(option, _("{value} is outside 0-100 %").format(value=f"{value:g}"))
    return value


def check_voice(query: object, option: str = "--voice") -> str:
    """A voice query (--voice or the voice setting): a non-empty text; what is installed is checked on use."""
    if not isinstance(query, str) or not query.strip():
        raise OptionError(option, _("must be a non-empty text, got {query}").format(query=repr(query)))
    return query.strip()


def check_language(code: object, routine: Routine | None = None, option: str = "--language") -> str:
    """--language or the language setting: a language coach has phrases in, or one `routine` is translated into."""
    # The setting applies to every routine, so `config set` checks it with none.
    wanted = validate_language(code, option)  # type: ignore[arg-type]
    translated = {lang.split("-")[0] for lang in routine.languages} if routine is not None else set()
    if pack_language(wanted) is None and wanted.split("-")[0] not in translated:
        raise OptionError(option, _("coach does not speak {language}; choose one of: {languages}").format(
            language=repr(wanted), languages=", ".join(pack_languages())))
    return wanted


def check_options(options: SessionOptions) -> None:
    """Validate every option before any slow work starts."""
    if options.voice is not None:
        check_voice(options.voice)
    validate_rate(options.rate_wpm)
    if options.pitch is not None:
        validate_pitch(options.pitch)
    if options.language is not None:
        validate_language(options.language)
    check_volume(options.voice_volume_pct, "--voice-volume")
    check_volume(options.beep_volume_pct, "--beep-volume")
    check_loudness(options.loudness_lufs)
    if options.no_voice and options.voice is not None:
        raise OptionError("--voice", _("cannot be combined with --no-voice"))
    if options.no_voice and options.pitch is not None:
        raise OptionError("--pitch", _("cannot be combined with --no-voice"))


def _voices_fingerprint() -> str | None:
    """What the voice list depends on: espeak's version and its data folder's state (None: do not cache)."""
    espeak = espeak_install()
    if espeak is None or espeak.data_dir is None:
        return None
    stamps = []
    for path in (espeak.data_dir, espeak.data_dir / "voices", espeak.data_dir / "lang"):
        try:
            stamps.append(str(os.stat(path).st_mtime_ns))
        except OSError:
            stamps.append("-")
    return f"espeak {espeak.version}:{espeak.data_dir}:" + ":".join(stamps)


def installed_voices(engine: SpeechEngine, cache_dir: Path | None) -> list[Voice]:
    """The engine's voices, remembered on disk so a warm start needs no engine at all."""
    fingerprint = _voices_fingerprint()
    store = cache_dir / f"voices-{engine.name}.json" if cache_dir is not None else None
    if store is not None and fingerprint is not None:
        try:
            saved = json.loads(store.read_text(encoding="utf-8"))
            if saved["fingerprint"] == fingerprint:
                return [Voice(v["id"], v["name"], tuple(v["languages"]), v["gender"]) for v in saved["voices"]]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    voices = engine.voices()
    if store is not None and fingerprint is not None:
        keep_json(store, {"fingerprint": fingerprint,
                          "voices": [v.__dict__ | {"languages": list(v.languages)} for v in voices]})
    return voices


def default_language(routine: Routine) -> str:
    """The language a routine is coached and shown in when no option or setting names one.

    The user's language from the locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG) when coach has phrases in
    it and the routine is written or translated in it; otherwise the routine's own language.
    """
    from coach.i18n import user_languages

    texts = {routine.language.split("-")[0], *(code.split("-")[0] for code in routine.languages)}
    for lang in user_languages():
        if lang in texts and pack_language(lang) is not None:
            return lang
    return routine.language


def localize(routine: Routine, language: str | None) -> tuple[Routine, Script, str | None]:
    """The routine in `language` (the default_language if None), the script that coaches it, and a warning if any.

    A language without a phrase pack is coached with English phrases (and a warning) when the routine
    has text in it; otherwise it is an unknown language. A missing translation is an OptionError too.
    """
    wanted = check_language(default_language(routine) if language is None else language, routine)
    code, packs = pack_language(wanted), ", ".join(pack_languages())
    routine = in_language(routine, wanted)
    if code is not None:
        return routine, for_language(code), None
    return routine, english(), (_("coach: warning: coach has no phrases in {language} (only in {packs}), so its own sentences are in "
                                  "English").format(language=repr(wanted), packs=packs))


def build_session(routine: Routine, options: SessionOptions,
                  engine_factory: Callable[[], SpeechEngine] = default_engine, cache_dir: Path | None = None,
                  extra_texts: Callable[[Script], Iterable[str]] = lambda script: (),
                  close_for: tuple[tuple[str, ...], int] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> Session:
    """Render (or fetch) every clip, plan the session with their real lengths, and collect its audio.

    The session is coached in options.language (the routine's own when None): its phrases, the routine's
    translation and, unless options.voice says otherwise, its best voice. extra_texts(script) are
    rendered too (into Session.speech) for things said outside the timeline. close_for=(skipped names,
    intro minutes) plans a close that names the skipped exercises, keeping the introduction as it was.
    With the default engine, an installed Piper voice may speak instead (see choose_voice_engine); its
    missing clips are rendered first on all cores, reporting progress(done, total). The introduction's
    minutes and the level are estimated (timing_estimates), so a live session that starts before its
    sentences are made plays exactly this.
    """
    from coach.audio.sounds import check_cues_kept

    parts = _prepare(routine, options, engine_factory, cache_dir, close_for)
    if parts.engine is None:
        return parts.session
    engine, cache, settings, session = parts.engine, parts.cache, parts.session.settings, parts.session
    script = session.script
    try:
        if hasattr(engine, "sibling"):  # an engine that can render in several processes at once
            prepare_in_parallel(cache, engine, session.routine, settings, [*extra_texts(script)], progress)
        p = plan(session.routine, settings, cache.duration_s)
        check_cues_kept(p, session.options.sounds_dir)
        speech = {c.text: cache.clip(c.text) for c in p.cues if c.text is not None}
        speech.update((text, cache.clip(text)) for text in extra_texts(script))
    finally:
        close = getattr(engine, "close", None)
        if close is not None:
            close()
    session.plan, session.speech = p, speech
    return session


def start_session(routine: Routine, options: SessionOptions,
                  engine_factory: Callable[[], SpeechEngine] = default_engine, cache_dir: Path | None = None,
                  extra_texts: Callable[[Script], Iterable[str]] = lambda script: (),
                  workers: int | None = None) -> Session:
    """A live session that renders nothing yet: session.stream makes its sentences, soonest needed first, on
    `workers` engines (one per core) while it plays; session.plan is its estimate until the stream is final."""
    from coach.streaming import Renderer, SpeechStream, estimated_length_s

    made: list[Renderer] = []

    def start_engines(engine: SpeechEngine, cache: ClipCache, factory: Callable[[], SpeechEngine],
                      first_line: str | None) -> None:
        piper = hasattr(engine, "sibling")
        make = (lambda: engine.sibling(threads=1)) if piper else factory
        first = (lambda: engine.sibling(threads=0)) if piper else None  # 0: every core
        made.append(Renderer(cache, make, workers or os.cpu_count() or 1, close_too=engine, make_first=first,
                             first=None if piper else engine))
        if first_line is not None and not cache.path(first_line).is_file():
            made[0].start()  # its first words are not made: start (a Piper voice loads) while the rest is worked out

    try:
        parts = _prepare(routine, options, engine_factory, cache_dir, None, start_engines)
    except BaseException:
        for renderer in made:
            renderer.close()
        raise
    if parts.engine is None:
        return parts.session
    cache, session = parts.cache, parts.session
    session.stream = SpeechStream(session, cache, made[0], lambda text: estimated_length_s(text, cache.rate_wpm),
                                  extra_texts(session.script))
    session.stream(True)  # the first texts are asked for at once: the engines start if any is missing
    return session


@dataclass
class _Parts:
    session: Session
    engine: SpeechEngine | None = None  # None: a session without speech, already complete
    cache: ClipCache | None = None


def _prepare(routine: Routine, options: SessionOptions, engine_factory: Callable[[], SpeechEngine],
             cache_dir: Path | None, close_for: tuple[tuple[str, ...], int] | None,
             engine_ready: Callable[[SpeechEngine, ClipCache, Callable[[], SpeechEngine], str | None], None]
             | None = None
             ) -> _Parts:
    """The session's language, sounds, settings, engine and clip cache, and its estimated minutes and level."""
    from coach.audio.sounds import check_cues_kept, load_sounds, sound_durations_s  # the audio stack, when needed

    check_options(options)
    routine, script, warning = localize(routine, options.language)
    language = routine.language if options.language is None else validate_language(options.language)
    about = {"language": language, "script": script, "warnings": (warning,) if warning else ()}

    def sounds_and_settings() -> tuple[dict, Settings]:
        sounds = load_sounds(options.sounds_dir)
        settings = Settings(speech=not options.no_voice, sound_s=sound_durations_s(sounds), script=script)
        if close_for is not None:
            settings = replace(settings, skipped=close_for[0], intro_minutes=close_for[1])
        return sounds, settings

    if options.no_voice:
        sounds, settings = sounds_and_settings()
        p = plan(routine, settings, lambda text: 0.0)
        check_cues_kept(p, options.sounds_dir)
        return _Parts(Session(routine, p, {}, sounds, None, options, settings=settings, **about))
    from coach.speech.clipcache import default_cache_dir

    clips_dir = cache_dir if cache_dir is not None else default_cache_dir()
    if engine_factory is default_engine:
        engine_factory, options, notices = choose_voice_engine(options, language, clips_dir.parent)
        about["warnings"] += notices
    engine = engine_factory()
    try:
        cache = speech_cache(engine, options, language, clips_dir)
        if engine_ready is not None:
            engine_ready(engine, cache, engine_factory, next(iter(script.intro_lines(routine, 1)), None))
        sounds, settings = sounds_and_settings()  # after the engines start: they take longest
    except BaseException:
        close = getattr(engine, "close", None)
        if close is not None:
            close()
        raise
    from coach.streaming import estimated_length_s, timing_estimates

    lift_db = None
    if close_for is None:
        # The estimates' plan settled its introduction's minutes: planned again saying them, it is the same.
        minutes, lift_db, estimated = timing_estimates(routine, settings, options, sounds, cache.rate_wpm, cache)
        settings = replace(settings, intro_minutes=minutes)
    else:
        estimated = plan(routine, settings, lambda text: estimated_length_s(text, cache.rate_wpm))
    check_cues_kept(estimated, options.sounds_dir)
    session = Session(routine, estimated, {}, sounds, cache.voice, options, lift_db=lift_db, settings=settings,
                      measures=cache, **about)
    return _Parts(session, engine, cache)


def prepare_in_parallel(cache: ClipCache, engine, routine: Routine, settings: Settings, extra: list[str],
                        progress: Callable[[int, int], None] | None) -> None:
    """Render the session's missing clips on all cores before it is planned for real.

    Which sentences a plan holds depends a little on their lengths (a count fits a hold or not), so
    missing clips are estimated from their words, and another round renders what the real lengths add.
    """
    from coach.speech.choice import EnginePool, prepare_clips

    asked: dict[str, None] = {}  # every text the planner measures, used or not (a count that does not fit)

    def length_s(text: str) -> float:
        asked[text] = None
        if cache.path(text).is_file():
            return cache.duration_s(text)
        return len(text.split()) * 60 / cache.rate_wpm + 0.3

    pool = EnginePool(lambda: engine.sibling(threads=1))
    try:
        for _ in range(3):
            plan(routine, settings, length_s)
            if not prepare_clips(cache, [*asked, *extra], pool, progress):
                return
    finally:
        pool.close()


def choose_voice_engine(options: SessionOptions, language: str, cache_root: Path
                        ) -> tuple[Callable[[], SpeechEngine], SessionOptions, tuple[str, ...]]:
    """The engine for options.voice (a Piper voice or espeak-ng), the options to use with it, and notices."""
    from coach.speech.choice import ESPEAK_NAMES, choose_engine
    from coach.speech.voicefiles import installed_piper_voices

    piper_voices = installed_piper_voices()
    if not piper_voices:
        espeak = options.voice is not None and options.voice.strip().lower() in ESPEAK_NAMES
        return default_engine, replace(options, voice=None) if espeak else options, ()

    def espeak_voices() -> list[Voice]:
        engine = default_engine()
        try:
            return installed_voices(engine, cache_root)
        finally:
            engine.close()

    choice = choose_engine(options.voice, language, piper_voices, espeak_voices, options.pitch)
    if choice.piper is None:
        return default_engine, replace(options, voice=choice.espeak_query), choice.notices
    from coach.speech.piper import PiperEngine

    voice_file = choice.piper
    return (lambda: PiperEngine(voice_file, cache_root), replace(options, voice=voice_file.name, pitch=None),
            choice.notices)


def speech_cache(engine: SpeechEngine, options: SessionOptions, language: str, clips_dir: Path) -> ClipCache:
    """The clips of the voice (and variant) options.voice names, else the best for `language`, at their rate and pitch.

    A regional code with no voice of its own (fr-ca) takes its language's voice (fr).
    """
    from coach.speech.clipcache import ClipCache

    check_pitch_support(engine, options.pitch)
    voices = installed_voices(engine, clips_dir.parent)
    if best_voice_for(voices, language) is None and best_voice_for(voices, language.split("-")[0]) is not None:
        language = language.split("-")[0]  # fr-ca without a Canadian French voice: the French one
    if voices and not options.voice and best_voice_for(voices, language) is None:
        spoken = [code for code in pack_languages() if best_voice_for(voices, code) is not None]
        choose = (_("choose one of: {languages}, or a voice with --voice").format(languages=", ".join(spoken)) if spoken
                  else _("choose one with --voice"))
        raise OptionError("--language", _("no installed voice speaks {language}; {choose}").format(language=repr(language), choose=choose))
    # Variants (a folder of files to read) only matter when the user names a voice.
    named = options.voice is not None and options.voice.strip() != ""
    voice = pick_voice(voices, options.voice, language, engine_variants(engine) if named else ())
    return ClipCache(engine, voice, options.rate_wpm, clips_dir, pitch=options.pitch)
