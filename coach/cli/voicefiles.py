"""`coach voices add | remove | download`, the Piper rows of `coach voices`, and the download's progress bar."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Callable, Optional, TextIO

import typer

from coach.cli.shared import fitted, is_terminal
from coach.errors import CoachError, OptionError
from coach.i18n import _
from coach.speech.voicefiles import PiperVoiceFile, installed_piper_voices, voices_folder

ENGINE_ESPEAK = "espeak-ng"
ENGINE_PIPER = "piper"


def _clean(text: str) -> str:
    from coach.terminal import printable

    return printable(text)


def byte_progress(label: str, stream: TextIO | None = None) -> Callable[[int, int], None] | None:
    """A progress(done_bytes, total_bytes) callback drawing a 20-cell bar on a terminal, else None."""
    stream = sys.stderr if stream is None else stream
    if not is_terminal(stream):
        return None
    shown = [-1]

    def show(done: int, total: int) -> None:
        pct = min(100, done * 100 // total) if total else 0
        if pct == shown[0]:
            return
        shown[0] = pct
        columns = shutil.get_terminal_size().columns - 1
        text = label[: max(8, columns - 7)]
        cells = max(0, min(20, columns - len(text) - 8))  # the bar gives way first on a narrow terminal
        bar = "━" * (pct * cells // 100) + "─" * (cells - pct * cells // 100)
        stream.write(f"\r{text} {bar} {pct:3d} %" if cells else f"\r{text} {pct:3d} %")
        stream.flush()

    return show


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:.0f} MB" if size_bytes >= 1e6 else f"{max(1, size_bytes // 1000)} kB"


def piper_rows(found: list[PiperVoiceFile]) -> list[str]:
    """One line per Piper voice: name, language, quality, size, licence."""
    rows = [(_clean(v.name), _clean(v.language), _clean(v.quality or ""), _size(v.size_bytes),
             _clean(v.licence or _("licence unknown")))
            for v in found]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return [f"{r[0]:{widths[0]}}  {r[1]:{widths[1]}}  {r[2]:{widths[2]}}  {r[3]:>{widths[3]}}  {r[4]}".rstrip()
            for r in rows]


def piper_json(found: list[PiperVoiceFile]) -> list[dict]:
    """The Piper voices as `coach voices --json` entries."""
    return [{"id": v.name, "name": v.name, "languages": [v.language], "gender": None, "engine": ENGINE_PIPER,
             "quality": v.quality, "size_bytes": v.size_bytes, "licence": v.licence, "path": str(v.model)}
            for v in found]


def listed_piper(language: str | None, gender: str | None) -> list[PiperVoiceFile]:
    """The installed Piper voices for `language` (all for None); none when a gender is asked (they have none)."""
    from coach.speech.voices import filter_voices

    found = installed_piper_voices()
    if gender:
        return []
    if language:
        keep = {v.id for v in filter_voices([f.voice() for f in found], language)}
        found = [f for f in found if f.name in keep]
    return found


def add_command(model: Path = typer.Argument(..., help="The voice's NAME.onnx (its NAME.onnx.json must be beside it).")) -> None:
    """Check a Piper voice and copy it into your voices folder."""
    from coach.speech.voicefiles import add_voice

    found = add_voice(model)
    print(_clean(_("added {name} ({language}, {quality}) to {folder}").format(
        name=found.name, language=found.language, quality=found.quality or _("quality unknown"),
        folder=voices_folder())), file=sys.stderr)


def remove_command(name: str = typer.Argument(..., help="The voice's name, or a unique part of it.")) -> None:
    """Remove a Piper voice from your voices folder."""
    from coach.speech.voicefiles import remove_voice

    found = remove_voice(name)
    print(_clean(_("removed {name}").format(name=found.name)), file=sys.stderr)


def download_command(
    name: Optional[str] = typer.Argument(None, help="A voice of Piper's catalogue, e.g. en_US-ljspeech-medium "
                                         "(not given: the default voice for your language)."),
    language: Optional[str] = typer.Option(None, "--language", help="With no NAME: the default voice for this "
                                           "language (en, fr, de, es) instead of yours."),
    first_run: bool = typer.Option(False, "--first-run", hidden=True, help="For ./scripts/run: fetch the default "
                                   "voice only if none speaks the language yet, and never fail."),
) -> None:
    """Download a voice from Piper's public catalogue, check it, and add it (no NAME: your language's default)."""
    from coach.speech.voicedownload import DEFAULT_VOICES, default_voice, download_voice

    wanted, chosen = "", None
    if name is None:
        wanted = _user_language(language)
        if first_run and wanted.split("-")[0] not in DEFAULT_VOICES:
            wanted = "en"  # a language coach does not coach in: its sessions are in English
        chosen = default_voice(wanted)
        name = chosen.key
        if first_run and not _first_run_wanted(chosen.key, wanted):
            return
    elif first_run or language is not None:
        raise OptionError("--language", _("give either a voice NAME or --language, not both"))
    progress = byte_progress(_("downloading {name}").format(name=_clean(name)))
    try:
        found = download_voice(name, progress=progress)
    except CoachError as exc:
        if not first_run:
            raise
        print(_("coach: no natural voice this time ({reason}); espeak-ng speaks. Later: coach voices download")
              .format(reason=exc), file=sys.stderr)
        return
    finally:
        if progress is not None:
            sys.stderr.write("\n")
    quality = found.quality or _("quality unknown")
    if chosen is not None and found.licence:
        line = _("added {name} ({language}, {quality}), the default voice for {wanted}; its licence: {licence}")
    elif chosen is not None:
        line = _("added {name} ({language}, {quality}), the default voice for {wanted}")
    elif found.licence:
        line = _("added {name} ({language}, {quality}); its licence: {licence}")
    else:
        line = _("added {name} ({language}, {quality})")
    print(_clean(line.format(name=found.name, language=found.language, quality=quality, wanted=repr(wanted),
                             licence=found.licence or "")), file=sys.stderr)


def _user_language(language: str | None) -> str:
    """--language, else the language setting, else the locale's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)."""
    from coach.speech.voicedownload import locale_language
    from coach.speech.voices import validate_language

    if language is not None:
        return validate_language(language)
    from coach.config import load_settings

    setting = load_settings().values.get("language")
    return str(setting) if setting else locale_language()


def _first_run_wanted(key: str, language: str) -> bool:
    """Whether a first run should download `key`: piper-tts works, no voice speaks the language, the catalogue answers.

    Offline it says in one line how to get a natural voice later.
    """
    from coach.speech.choice import best_piper_for
    from coach.speech.voicedownload import catalogue_reachable
    from coach.speech.voicefiles import piper_available

    if not piper_available() or best_piper_for(installed_piper_voices(), language) is not None:
        return False
    if not catalogue_reachable():
        print(_("coach: Piper's voice catalogue cannot be reached, so espeak-ng speaks for now; for a natural voice "
                "later: coach voices download  (or ./scripts/run again when online)"), file=sys.stderr)
        return False
    print(_("coach: downloading the natural voice for {language} ({key}), once").format(
        language=repr(language), key=key), file=sys.stderr)
    return True


def register(group: typer.Typer) -> None:
    """Add the voice file commands under `coach voices`."""
    group.command("add")(add_command)
    group.command("remove")(remove_command)
    group.command("download")(download_command)


MENTIONED_FILE = "natural-voice-mentioned"  # in the cache folder: a live session says it once, not every time


def mention_natural_voice_once(stream: TextIO | None = None) -> bool:
    """Before a live session that espeak-ng speaks for want of any Piper voice: one line on getting one, once."""
    from coach.cachedir import cache_root

    if installed_piper_voices():
        return False
    marker = cache_root() / MENTIONED_FILE
    if marker.exists():
        return False
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        return False  # could not remember it: better unsaid than said every time
    stream = sys.stderr if stream is None else stream
    print(fitted(_("Tip: espeak-ng speaks this session; for a natural voice in your language: coach voices download"),
                 stream), file=stream)
    return True
