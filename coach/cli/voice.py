"""The `coach voices` and `coach say` commands: find a voice, hear it, and say a sentence."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from coach.i18n import N_, _, format_number
from coach.cli import voicefiles
from coach.cli.shared import LanguageOpt, PitchOpt, RateOpt, VoiceOpt
from coach.config import Choices, resolve_options
from coach.errors import AudioDeviceError, OptionError
from coach.plan.model import SAMPLE_RATE, Cue, CueKind, Plan
from coach.session import installed_voices, speech_cache
from coach.speech.engine import default_engine, speakable
from coach.speech.voices import (Voice, check_pitch_support, engine_variants, filter_voices, short_name,
                                 validate_gender, validate_language, variant_voices)

if TYPE_CHECKING:
    import numpy as np  # loaded by the commands that play audio, not by `coach voices`

NATURAL_VOICE_HINT = N_("Only espeak-ng speaks here. For a natural voice in your language: coach voices download")
SAMPLE_GAP_S = 0.4  # between a voice saying its name and the sample sentence
POLL_S = 0.02  # how often we look whether playback has finished


# --- voices --------------------------------------------------------------------------------------


def listed_voices(voices: list[Voice], variants: list, language: str | None, default_language: str,
                  gender: str | None) -> list[Voice]:
    """Language voices (for `language`, or all), then each variant spoken in that language."""
    found = filter_voices(voices, language)
    found += variant_voices(voices, variants, language or default_language)
    if gender:
        found = [v for v in found if v.gender == gender]
    return found


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 3)] + "..."


def voice_table(found: list[Voice], width: int | None) -> list[str]:
    """One line per voice: id, name, languages, gender; the name column shrinks to fit `width`."""
    rows = [(v.id, v.name, ", ".join(v.languages), v.gender or "") for v in found]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(4)]
    if width is not None:
        room = width - (widths[0] + widths[2] + widths[3] + 6)
        widths[1] = max(8, min(widths[1], room))
    return [f"{_fit(r[0], widths[0]):{widths[0]}}  {_fit(r[1], widths[1]):{widths[1]}}  "
            f"{_fit(r[2], widths[2]):{widths[2]}}  {r[3]}".rstrip() for r in rows]


def voices_command(
    ctx: typer.Context,
    language: Optional[str] = typer.Option(
        None, "--language", help="Only voices for this language code, e.g. en or fr; variants are shown in it."),
    gender: Optional[str] = typer.Option(None, "--gender", help="Only female or male voices."),
    as_json: bool = typer.Option(False, "--json", help="Print the voices as JSON."),
    sample: bool = typer.Option(False, "--sample", help="Say a short sample with each voice listed, in turn."),
) -> None:
    """List the installed voices: espeak-ng's and its variants (en-us+Andrea), and Piper's.

    Piper voices are added with 'coach voices add FILE.onnx' or 'coach voices download NAME'.
    """
    if ctx.invoked_subcommand is not None:
        return
    from coach.cli.voicefiles import listed_piper, piper_json, piper_rows

    if language is not None:
        language = validate_language(language)
    if gender is not None:
        gender = validate_gender(gender)
    choices = resolve_options()
    with choices.blame():
        from coach.cachedir import cache_root

        engine = default_engine()
        try:
            voices = installed_voices(engine, cache_root())
            found = listed_voices(voices, engine_variants(engine), language, choices.language, gender)
            piper = listed_piper(language, gender)
            if not found and not piper and language:
                if gender:
                    text = _("no installed {gender} voice speaks '{language}'")
                else:
                    text = _("no installed voice speaks '{language}'")
                raise OptionError("--language", text.format(gender=gender, language=language))
            if not found and not piper:
                raise OptionError("--gender", _("no installed voice is {gender}").format(gender=gender))
            if sample:
                _sample(engine, found, choices, language or choices.language)
                return
        finally:
            engine.close()
    if as_json:
        doc = [{"id": v.id, "name": v.name, "languages": list(v.languages), "gender": v.gender,
                "engine": "espeak-ng"} for v in found] + piper_json(piper)
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return
    tty = sys.stdout.isatty()
    for line in voice_table(found, shutil.get_terminal_size().columns - 1 if tty else None):
        print(line)
    if piper:
        print(("\n" if found else "") + _("Piper voices:"))
        for line in piper_rows(piper):
            print(line)
    if tty:
        print(_("Hear one: coach say 'Hello' --voice ID    keep it: coach config set voice ID"), file=sys.stderr)
    if not piper and not listed_piper(None, None):
        print(_(NATURAL_VOICE_HINT), file=sys.stderr)


voices_app = typer.Typer(add_completion=False)
voices_app.callback(invoke_without_command=True)(voices_command)
voicefiles.register(voices_app)


def _sample(engine, found: list[Voice], choices: Choices, language: str) -> None:
    import numpy as np

    from coach.speech.clipcache import ClipCache, default_cache_dir
    from coach.plan.phrases import pack_language
    from coach.plan.script import english, for_language

    sample = (english() if pack_language(language) is None else for_language(language)).VOICE_SAMPLE

    check_pitch_support(engine, choices.pitch)  # the rate and pitch settings apply to the samples too
    gap = np.zeros(round(SAMPLE_GAP_S * SAMPLE_RATE), dtype=np.float32)
    for voice in found:
        print(f"{voice.id}  {voice.name}", flush=True)
        cache = ClipCache(engine, voice, choices.rate_wpm, default_cache_dir(), pitch=choices.pitch)
        name = speakable(short_name(voice).replace("_", " ")) + "."
        play(np.concatenate([cache.clip(name), gap, cache.clip(sample), gap]),
             choices.voice_volume_pct)


# --- say -----------------------------------------------------------------------------------------


def _one_clip_plan(text: str, clip: np.ndarray) -> Plan:
    """A plan of a single sentence, so a clip goes through the same mixer and writer as a session."""
    duration_s = len(clip) / SAMPLE_RATE
    return Plan(routine="say", title=text, duration_s=duration_s, steps=(),
                cues=(Cue(0.0, duration_s, CueKind.SPEECH, text),), chapters=())


def _mixed(text: str, clip: np.ndarray, volume_pct: float):
    from coach.audio.mixer import Mixer

    plan = _one_clip_plan(text, clip)
    return plan, Mixer(plan, {text: clip}, {}, volume_pct / 100.0)


def play(clip: np.ndarray, volume_pct: float = 100.0, output=None) -> None:
    """Play a clip through the speakers and wait until it has finished (Ctrl+C stops it)."""
    _plan, mixer = _mixed("", clip, volume_pct)
    samples = mixer.render(0, mixer.total_frames)
    from coach.live import player as live
    from coach.audio.pcm import to_pcm16

    frames = to_pcm16(samples)

    try:
        playback = (output or live.SimpleaudioOutput()).play(frames)
    except AudioDeviceError as exc:
        raise AudioDeviceError(_("{reason}; write the speech to a file instead with -o FILE.wav").format(
            reason=exc)) from None
    try:
        while playback.is_playing():
            time.sleep(POLL_S)
    finally:
        playback.stop()


def say_command(
    text: str = typer.Argument(..., help="What to say."),
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    pitch: PitchOpt = None,
    language: LanguageOpt = None,
    output: Optional[Path] = typer.Option(
        None, "-o", "--output", help="Write it to this audio file (.wav, .flac, .ogg, .opus or .mp3) instead of playing it."),
) -> None:
    """Say a sentence through the speakers (or into a file) with a voice, rate and pitch.

    The voice is --voice, else the best one for --language (else the 'language' setting, else your
    system's language, else en).
    """
    from coach.speech.clipcache import default_cache_dir
    from coach.export.writer import check_output, export_audio
    from coach.session import check_options

    spoken = speakable(text)
    if not spoken:
        raise OptionError("TEXT", _("there is nothing to say in it"))
    choices = resolve_options(voice=voice, rate=rate, pitch=pitch, language=language)
    with choices.blame():
        options = choices.session_options()
        check_options(options)
        if output is not None:
            try:
                check_output(output)
            except OptionError as exc:
                raise OptionError("-o", exc.reason.removeprefix(f"{output}: ")) from None
        from coach.cachedir import cache_root
        from coach.session import choose_voice_engine

        make_engine, options, notices = choose_voice_engine(options, choices.language, cache_root())
        for notice in notices:
            print(notice, file=sys.stderr)
        engine = make_engine()
        try:
            cache = speech_cache(engine, options, choices.language, default_cache_dir())
            clip = cache.clip(spoken)
        finally:
            engine.close()
    if output is None:
        play(clip, choices.voice_volume_pct)
        return
    plan, mixer = _mixed(spoken, clip, choices.voice_volume_pct)
    export_audio(plan, mixer, output)
    print(_("wrote {output} ({voice}, {seconds} s)").format(
        output=output, voice=cache.voice.id, seconds=format_number(len(clip) / SAMPLE_RATE, 1, fixed=True)),
        file=sys.stderr)
