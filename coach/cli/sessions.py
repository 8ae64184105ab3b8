"""`coach plan`, `coach export` and `coach run`: one session, as a timeline, as an audio file, or live."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from coach.audio.levels import DEFAULT_LOUDNESS_LUFS
from coach.cli.shared import (BeepVolumeOpt, DefaultRoutineArg, LanguageOpt, LoudnessOpt, NoVoiceOpt, PitchOpt,
                              RateOpt, RoutineArg, SoundsOpt, VoiceOpt, VoiceVolumeOpt, count_progress, fitted)
from coach.config import resolve_options
from coach.errors import AudioDeviceError
from coach.i18n import _, format_number, ngettext
from coach.plan.model import CueKind
from coach.routine import Routine, load_routine
from coach.session import Session, SessionOptions, build_session, check_options, start_session
from coach.speech.engine import DEFAULT_RATE_WPM
from coach.terminal import printable
from coach.timefmt import clock, cue_stamp

# The export stack (soundfile, soxr, mutagen, the encoders) and the sound files are imported by the
# commands that use them, so the others start without paying for it.


def _session(routine: Routine, options: SessionOptions, build=build_session, **kwargs) -> Session:
    """build_session (or start_session), with its warnings (one line each) on stderr."""
    session = build(routine, options, **kwargs)
    for warning in session.warnings:
        print(printable(warning), file=sys.stderr)
    return session


def plan_command(
    routine: DefaultRoutineArg = None,
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    pitch: PitchOpt = None,
    no_voice: NoVoiceOpt = False,
    sounds: SoundsOpt = None,
    language: LanguageOpt = None,
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Print the session's timeline: when each cue is spoken or sounded."""
    choices = resolve_options(voice=voice, rate=rate, pitch=pitch, language=language, routine=routine,
                              no_voice=no_voice)
    with choices.blame():
        options = choices.session_options(no_voice, sounds)
        check_options(options)
        session = _session(choices.load_routine(), options)
    p = session.plan
    if as_json:
        doc = p.to_json()
        about = {"language": session.language, "voice": session.voice.id if session.voice else None}
        json.dump({"routine": doc["routine"], "title": doc["title"]} | about | doc, sys.stdout, indent=2,
                  ensure_ascii=False)
        print()
        return
    print(printable(f"{p.title}: {clock(p.duration_s)}"))
    chapters = list(p.chapters)
    for cue in p.cues:
        while chapters and chapters[0].start_s <= cue.at_s:
            print(f"\n{cue_stamp(chapters[0].start_s)}  == {printable(chapters.pop(0).title)} ==")
        what = cue.text if cue.kind == CueKind.SPEECH else _("[{sound} sound]").format(sound=cue.sound)
        print(f"{cue_stamp(cue.at_s)}  {printable(what)}")
    print(f"\n{cue_stamp(p.duration_s)}  " + _("(end)"))


def export_command(
    routine: RoutineArg,
    output: Path = typer.Argument(..., help="The audio file to write: .wav, .flac, .ogg, .opus or .mp3."),
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    pitch: PitchOpt = None,
    voice_volume: VoiceVolumeOpt = None,
    beep_volume: BeepVolumeOpt = None,
    loudness: LoudnessOpt = None,
    no_voice: NoVoiceOpt = False,
    sounds: SoundsOpt = None,
    language: LanguageOpt = None,
    captions: Optional[Path] = typer.Option(None, "--captions", help="Also write the speech as captions (.srt or .vtt)."),
) -> None:
    """Export a whole session to an audio file, with chapters and optional captions."""
    from coach.export.writer import check_output, export_audio, progress_reporter

    choices = resolve_options(voice=voice, rate=rate, pitch=pitch, voice_volume=voice_volume,
                              beep_volume=beep_volume, loudness=loudness, language=language, no_voice=no_voice)
    with choices.blame():
        options = choices.session_options(no_voice, sounds)
        check_options(options)
        check_output(output)
        if captions is not None:
            from coach.export.captions import check_captions

            check_captions(captions)
        session = _session(load_routine(routine), options, progress=count_progress(_("preparing the voice")))
    from dataclasses import replace

    from coach.export.leadin import with_lead_in

    session = replace(session, plan=with_lead_in(session.plan))  # the lead-in live playback also has
    mixer = session.mixer()
    export_audio(session.plan, mixer, output, progress_reporter())
    if captions is not None:
        from coach.export.captions import write_captions

        write_captions(session.plan, captions)
    chapters = len(session.plan.chapters)
    if captions is not None:
        line = ngettext("wrote {output} ({length}, {count} chapter, {loudness}) and {captions}",
                        "wrote {output} ({length}, {count} chapters, {loudness}) and {captions}", chapters)
    else:
        line = ngettext("wrote {output} ({length}, {count} chapter, {loudness})",
                        "wrote {output} ({length}, {count} chapters, {loudness})", chapters)
    line = line.format(output=output, length=clock(session.plan.duration_s), count=chapters,
                       loudness=_loudness(mixer), captions=captions)
    print(fitted(line, sys.stderr), file=sys.stderr)


def _loudness(mixer) -> str:
    """'-19.0 LUFS, -2.0 dBTP': the integrated loudness and true peak of the samples written."""
    lufs, peak = mixer.integrated_lufs(), mixer.true_peak_dbtp()
    say = (lambda value, unit: f"{format_number(value, 1, fixed=True)} {unit}" if value != float("-inf")
           else _("silent ({unit})").format(unit=unit))
    return f"{say(lufs, 'LUFS')}, {say(peak, 'dBTP')}"


def _export_hint(routine: str, options: SessionOptions) -> str:
    """The `coach export` command that gives the same session as a file."""
    parts = ["coach", "export", shlex.quote(routine), "session.mp3"]
    if options.voice:
        parts += ["--voice", shlex.quote(options.voice)]
    if options.language:
        parts += ["--language", shlex.quote(options.language)]
    if options.rate_wpm != DEFAULT_RATE_WPM:
        parts += ["--rate", str(options.rate_wpm)]
    if options.pitch is not None:
        parts += ["--pitch", str(options.pitch)]
    if options.no_voice:
        parts.append("--no-voice")
    if options.sounds_dir is not None:
        parts += ["--sounds", shlex.quote(str(options.sounds_dir))]
    if options.voice_volume_pct != 100:
        parts += ["--voice-volume", f"{options.voice_volume_pct:g}"]
    if options.beep_volume_pct != 100:
        parts += ["--beep-volume", f"{options.beep_volume_pct:g}"]
    if options.loudness_lufs != DEFAULT_LOUDNESS_LUFS:
        parts += ["--loudness", f"{options.loudness_lufs:g}"]
    return " ".join(parts)


def run_command(
    ctx: typer.Context,
    routine: DefaultRoutineArg = None,
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    pitch: PitchOpt = None,
    voice_volume: VoiceVolumeOpt = None,
    beep_volume: BeepVolumeOpt = None,
    loudness: LoudnessOpt = None,
    no_voice: NoVoiceOpt = False,
    sounds: SoundsOpt = None,
    language: LanguageOpt = None,
    from_exercise: Optional[str] = typer.Option(None, "--from", help="Start at this exercise (number or name)."),
    quiet: bool = typer.Option(False, "--quiet", help="No screen output at all (and no pain question)."),
    no_log: bool = typer.Option(False, "--no-log", help="Do not record this session in the practice log."),
    no_mpris: bool = typer.Option(False, "--no-mpris", help="Do not offer the session to media keys, "
                                  "headset buttons and the desktop (MPRIS)."),
) -> None:
    """Coach a session live through the speakers: space pauses, n next, p back, q quits.

    Media keys, headset buttons, the desktop's sound menu and playerctl control it too (MPRIS).

    Every session is recorded in the practice log (see 'coach history'); at the end of a finished or
    stopped session coach asks how much pain you feel, from 0 to 10 (Enter skips).
    """
    from coach.live.player import start_position_s
    from coach.cli.runner import run_logged, show_header

    choices = resolve_options(voice=voice, rate=rate, pitch=pitch, voice_volume=voice_volume,
                              beep_volume=beep_volume, loudness=loudness, language=language, routine=routine,
                              no_voice=no_voice, mpris=False if no_mpris else None)
    with choices.blame():
        options = choices.session_options(no_voice, sounds)
        check_options(options)
        session = _session(choices.load_routine(), options, build=start_session,
                           extra_texts=lambda script: (script.PAIN_QUESTION,))
    start_s = start_position_s(session.plan, from_exercise)
    if not quiet:
        show_header(session, start_s)
    debug = bool(ctx.find_root().params.get("debug"))  # coach's global --debug
    try:
        run_logged(session, start_s, quiet=quiet, log=not no_log, mpris=choices.mpris, debug=debug)
    except AudioDeviceError as exc:
        hint = _export_hint(choices.routine, options)
        raise AudioDeviceError(_("{reason}; export the session instead: {command}").format(reason=exc, command=hint)) from None
