"""Which engine speaks: an installed Piper voice when it is named or fits the language, else espeak-ng."""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from coach.errors import OptionError
from coach.speech.voicefiles import PIPER_INSTALL_HINT, PiperVoiceFile, find_installed, piper_available
from coach.speech.voices import LANGUAGE_CODE, VARIANT_SEPARATOR, Voice, best_voice_for
from coach.i18n import _

if TYPE_CHECKING:
    from coach.speech.clipcache import ClipCache
    from coach.speech.engine import SpeechEngine

ESPEAK_NAMES = ("espeak", "espeak-ng")
PIPER_NAME = "piper"
QUALITY_ORDER = ("medium", "high", "low", "x_low")  # medium: natural, and fast enough on two cores


@dataclass(frozen=True)
class EngineChoice:
    """The Piper voice to speak with (None: espeak-ng), what to pass on as --voice, and notices to print."""

    piper: PiperVoiceFile | None
    espeak_query: str | None
    notices: tuple[str, ...] = ()


def _quality_rank(voice: PiperVoiceFile) -> int:
    return QUALITY_ORDER.index(voice.quality) if voice.quality in QUALITY_ORDER else len(QUALITY_ORDER)


def best_piper_for(voices: Sequence[PiperVoiceFile], language: str) -> PiperVoiceFile | None:
    """The installed Piper voice for a language (its dialects too), medium quality first."""
    best = best_voice_for([v.voice() for v in voices], language)
    if best is None:
        return None
    speaking = [v for v in voices if v.voice().languages == best.languages]
    return min(speaking, key=lambda v: (_quality_rank(v), v.name))


def _names_espeak(query: str, espeak_voices: Callable[[], list[Voice]]) -> bool:
    """Whether a query plainly means an espeak-ng voice: a language it speaks, a variant, an id or a name."""
    if VARIANT_SEPARATOR in query:
        return True
    try:
        voices = espeak_voices()
    except Exception:  # no espeak-ng at all: then it cannot mean one
        return False
    q = query.lower()
    if any(q in (v.id.lower(), v.name.lower()) for v in voices):
        return True
    return bool(LANGUAGE_CODE.fullmatch(query)) and best_voice_for(voices, query) is not None


def choose_engine(query: str | None, language: str, piper_voices: Sequence[PiperVoiceFile],
                  espeak_voices: Callable[[], list[Voice]], pitch: int | None = None) -> EngineChoice:
    """Piper or espeak-ng for the --voice query (None: the best voice for `language`)."""
    q = (query or "").strip()
    if q.lower() in ESPEAK_NAMES:
        return EngineChoice(None, None)
    found: PiperVoiceFile | None = None
    named = bool(q)
    if q.lower() == PIPER_NAME:
        found = best_piper_for(piper_voices, language) or (piper_voices[0] if piper_voices else None)
        if found is None:
            raise OptionError("--voice", _("no Piper voice is installed; add one with `coach voices add` or `coach voices download`"))
    elif q:
        exact = [v for v in piper_voices if v.name.lower() == q.lower()]
        if exact:
            found = exact[0]
        elif not _names_espeak(q, espeak_voices):
            found = find_installed(q, list(piper_voices))
        if found is None:
            return EngineChoice(None, query)
    else:
        found = best_piper_for(piper_voices, language)
        if found is None:
            if piper_voices:
                return EngineChoice(None, None, (_("coach: no Piper voice speaks {language}, so espeak-ng speaks this session").format(language=repr(language)),))
            return EngineChoice(None, None)
    if not piper_available():
        if named:
            raise OptionError("--voice", _("{name} is a Piper voice and piper-tts is not installed; {hint}").format(name=found.name, hint=_(PIPER_INSTALL_HINT)))
        return EngineChoice(None, None, (_("coach: the Piper voice {name} needs piper-tts, so espeak-ng speaks instead; {hint}").format(name=found.name, hint=_(PIPER_INSTALL_HINT)),))
    notices = []
    if not named:
        notices.append(_("coach: speaking with the Piper voice {name}, the best installed for {language} (--voice espeak for espeak-ng)").format(name=found.name, language=repr(language)))
    if pitch is not None:
        notices.append(_("coach: Piper voices have no pitch, so --pitch is left out"))
    return EngineChoice(found, None, tuple(notices))


# --- rendering a voice's clips the first time ----------------------------------------------------


class EnginePool:
    """Engines made on first need and kept for the next round, one per core at most; close() stops them."""

    def __init__(self, make_engine: Callable[[], SpeechEngine], workers: int | None = None):
        self._make = make_engine
        self.size = max(1, workers or os.cpu_count() or 1)
        self._engines: list[SpeechEngine] = []

    def take(self, count: int) -> list[SpeechEngine]:
        """`count` engines (no more than the pool's size)."""
        while len(self._engines) < min(count, self.size):
            self._engines.append(self._make())
        return self._engines[:count]

    def close(self) -> None:
        """Stop every engine."""
        for engine in self._engines:
            close = getattr(engine, "close", None)
            if close is not None:
                close()
        self._engines = []


def prepare_clips(cache: ClipCache, texts: Iterable[str], pool: EnginePool,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Render the texts `cache` lacks on disk, in parallel, one engine of the pool each; returns how many.

    Each engine renders into a ClipCache of its own with the same voice, rate and pitch, so the clips
    land where `cache` reads them. Longer texts go first, so no core is left with a long one at the end.
    """
    from coach.speech.clipcache import ClipCache

    missing = sorted((t for t in dict.fromkeys(texts) if not cache.path(t).is_file()), key=len, reverse=True)
    if not missing:
        return 0
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for text in missing:
        todo.put(text)
    done, errors, lock = [0], [], threading.Lock()
    stop = threading.Event()

    def work(engine: SpeechEngine) -> None:
        mine = ClipCache(engine, cache.voice, cache.rate_wpm, cache.cache_dir, pitch=cache.pitch)
        try:
            while not stop.is_set():
                try:
                    text = todo.get_nowait()
                except queue.Empty:
                    return
                mine.clip(text)
                with lock:
                    done[0] += 1
                    if progress is not None:
                        progress(done[0], len(missing))
        except BaseException as exc:  # handed to the caller's thread
            errors.append(exc)
            stop.set()

    engines = pool.take(len(missing))
    try:
        threads = [threading.Thread(target=work, args=(e,), name=f"coach-voice-{i}", daemon=True)
                   for i, e in enumerate(engines)]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)  # short waits so Ctrl+C reaches this thread
    except BaseException:
        stop.set()
        raise
    if errors:
        raise errors[0]
    return done[0]
