"""The command line: thin commands over the pipeline, one error path."""

from __future__ import annotations

import json
import shlex
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from coach import __version__
from coach.cli import config as cli_config
from coach.cli import voice as cli_voice
from coach.cli.voice import LanguageOpt, PitchOpt, RateOpt, VoiceOpt
from coach.audio.levels import DEFAULT_LOUDNESS_LUFS
from coach.cli.voicefiles import count_progress
from coach.config import DEFAULT_ROUTINE, resolve_options
from coach.errors import AudioDeviceError, CoachError, ExitStatus
from coach.plan.model import CueKind, Plan
from coach.plan.settings import Settings, estimate_clip_duration
from coach.plan.planner import plan
from coach.routine import (Routine, builtin_names, load_routine, load_routine_file, nominal_duration_s,
                           user_routine_dir, user_routine_files)
from coach.terminal import printable
from coach.session import Session, SessionOptions, build_session, check_options, start_session
from coach.speech.engine import DEFAULT_RATE_WPM
from coach.timefmt import about_minutes, clock, cue_stamp

# The export stack (soundfile, soxr, mutagen, the encoders) and the sound files are imported by the
# commands that use them, so the others start without paying for it.

# typer keeps its own copy of click; reach its exception classes through a public one
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="coach: a voice-guided audio coach. It speaks each instruction, counts the holds out loud, "
    "beeps the rests, and can export a whole session to an audio file.",
)

NO_VOICE_HELP = "Beeps only, no speech (for when no speech engine is installed)."
SOUNDS_HELP = "A folder of WAV files (rest, pip, start, stop, end) that replace the built-in sounds."

# Options shared by plan, export and run, declared once.
# Options left out (None) take their value from the settings file (`coach config`), else the default.
RoutineArg = Annotated[str, typer.Argument(help="A built-in routine name or a path to a .toml file.")]
DefaultRoutineArg = Annotated[Optional[str], typer.Argument(
    help=f"A built-in routine name or a path to a .toml file (default: the 'routine' setting, else {DEFAULT_ROUTINE}).")]
VoiceVolumeOpt = Annotated[Optional[float], typer.Option("--voice-volume", help="Speech volume, 0-100 %.")]
BeepVolumeOpt = Annotated[Optional[float], typer.Option("--beep-volume", help="Beep volume, 0-100 %.")]
LoudnessOpt = Annotated[Optional[float], typer.Option(
    "--loudness", help="The session's loudness in LUFS, -30 to -12 (default -19).")]
NoVoiceOpt = Annotated[bool, typer.Option("--no-voice", help=NO_VOICE_HELP)]
SoundsOpt = Annotated[Optional[Path], typer.Option("--sounds", help=SOUNDS_HELP)]


def _version(value: bool) -> None:
    if value:
        print(f"coach {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback when something fails."),
) -> None:
    """coach's global options (--debug itself is read by main(), before any command runs)."""
    _debug[0] = debug


_debug = [False]  # --debug, for the commands that say more with it


def _estimated_plan(routine: Routine, rate_wpm: int = DEFAULT_RATE_WPM) -> Plan:
    """A quick plan with speech lengths estimated from word counts (for listings)."""
    from coach.audio.sounds import builtin_sound_durations_s

    return plan(routine, Settings(sound_s=builtin_sound_durations_s()), estimate_clip_duration(rate_wpm))


@app.command("routines")
def routines_command() -> None:
    """List the built-in routines and your own, with their length."""
    rows = []
    for name in builtin_names():
        rows.append((name, load_routine(name), "built-in"))
    for path in user_routine_files():
        try:
            rows.append((path.stem, load_routine_file(path), str(path)))
        except CoachError as exc:
            rows.append((path.stem, None, f"invalid: {exc}"))
    for name, routine, where in rows:
        if routine is None:
            print(printable(f"{name:24}  {where}"))
            continue
        n = len(routine.exercises)
        duration = about_minutes(_estimated_plan(routine).duration_s)
        print(printable(f"{name:24}  {routine.title}  ({n} exercise{'s' if n != 1 else ''}, {duration})"
                        + ("" if where == "built-in" else f"  [{where}]")))
    if not user_routine_files():
        print(f"\nYour own routines go in {user_routine_dir()} (one .toml file each).")


@app.command("show")
def show_command(routine: RoutineArg) -> None:
    """Show a routine as a person would read it."""
    r = load_routine(routine)
    lines = [r.title]
    if r.summary:
        lines.append(r.summary)
    lines.append(f"Length: {about_minutes(_estimated_plan(r).duration_s)} "
                 f"(of which {about_minutes(nominal_duration_s(r))} of exercise)")
    if r.frequency:
        unit, low, high = r.frequency
        lines.append(f"How often: {low if low == high else f'{low}-{high}'} times a {unit}")
    if r.equipment:
        lines.append(f"You need: {', '.join(r.equipment)}")
    if r.caution:
        lines.append(f"Caution: {r.caution}")
    for i, ex in enumerate(r.exercises, start=1):
        lines += ["", f"{i}. {ex.name}", f"   {_dose_text(ex)}"]
        if ex.sides:
            lines.append(f"   Sides, in order: {'; '.join(ex.sides)}")
        lines.append(f"   {ex.instructions}")
        lines += [f"   Tip: {tip}" for tip in ex.tips]
    for line in lines:  # each line whole: a control character in the file is shown, never obeyed
        print(printable(line))


def _dose_text(ex) -> str:
    what = f"hold {ex.hold_s} s" if ex.hold_s is not None else f"{ex.work_s} s of movement"
    text = f"{what} x {ex.reps}" if ex.reps > 1 else what
    if ex.reps > 1:
        text += f", {ex.rest_s:g} s rest between"
    if ex.sets > 1:
        text += f"; {ex.sets} sets, {ex.set_rest_s:g} s rest between sets"
    if ex.sides:
        text += f"; each of {len(ex.sides)} sides"
    return text + f"; {ex.setup_s:g} s to get into position"




def _session(routine: Routine, options: SessionOptions, **kwargs) -> Session:
    """build_session, with its warnings (one line each) on stderr."""
    session = build_session(routine, options, **kwargs)
    for warning in session.warnings:
        print(printable(warning), file=sys.stderr)
    return session


@app.command("plan")
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
        what = cue.text if cue.kind == CueKind.SPEECH else f"[{cue.sound} sound]"
        print(f"{cue_stamp(cue.at_s)}  {printable(what)}")
    print(f"\n{cue_stamp(p.duration_s)}  (end)")


@app.command("export")
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
        session = _session(load_routine(routine), options, progress=count_progress("preparing the voice"))
    from dataclasses import replace

    from coach.export.leadin import with_lead_in

    session = replace(session, plan=with_lead_in(session.plan))  # the lead-in live playback also has
    mixer = session.mixer()
    export_audio(session.plan, mixer, output, progress_reporter())
    if captions is not None:
        from coach.export.captions import write_captions

        write_captions(session.plan, captions)
    line = (f"wrote {output} ({clock(session.plan.duration_s)}, {len(session.plan.chapters)} chapters, "
            f"{_loudness(mixer)})" + (f" and {captions}" if captions is not None else ""))
    print(_fitted(line, sys.stderr), file=sys.stderr)


def _fitted(line: str, stream) -> str:
    """The line broken between words to fit a terminal's width (a value such as -19.2 never split)."""
    if not stream.isatty():
        return line
    import shutil
    import textwrap

    return textwrap.fill(line, width=shutil.get_terminal_size().columns, break_on_hyphens=False,
                         break_long_words=False)


def _loudness(mixer) -> str:
    """'-19.0 LUFS, -2.0 dBTP': the integrated loudness and true peak of the samples written."""
    lufs, peak = mixer.integrated_lufs(), mixer.true_peak_dbtp()
    say = (lambda value, unit: f"{value:.1f} {unit}" if value != float("-inf") else f"silent ({unit})")
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


@app.command("run")
def run_command(
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
        session = start_session(choices.load_routine(), options, extra_texts=lambda script: (script.PAIN_QUESTION,))
        for warning in session.warnings:
            print(printable(warning), file=sys.stderr)
    start_s = start_position_s(session.plan, from_exercise)
    if not quiet:
        show_header(session, start_s)
    try:
        run_logged(session, start_s, quiet=quiet, log=not no_log, mpris=choices.mpris, debug=_debug[0])
    except AudioDeviceError as exc:
        hint = _export_hint(choices.routine, options)
        raise AudioDeviceError(f"{exc}; export the session instead: {hint}") from None


@app.command("validate")
def validate_command(files: list[Path] = typer.Argument(..., help="Routine files to check.")) -> None:
    """Check routine files; exit 0 when all are valid, 2 otherwise."""
    bad = 0
    for path in files:
        try:
            r = load_routine_file(path)
        except CoachError as exc:
            bad += 1
            print(f"coach: {printable(exc)}", file=sys.stderr)
        else:
            print(printable(f"{path}: ok ({r.title}, {len(r.exercises)} exercises)"))
    if bad:
        raise typer.Exit(ExitStatus.BAD_INPUT)


from coach.cli.log import history_command, today_command  # noqa: E402 (the log's commands)
from coach.cli.manual import log_app  # noqa: E402
from coach.cli.report import report_command  # noqa: E402
from coach.cli.ical import calendar_command  # noqa: E402
from coach.cli.remind import remind_command  # noqa: E402

app.command("history")(history_command)
app.command("today")(today_command)
app.add_typer(log_app, name="log")
app.command("report")(report_command)
app.command("calendar")(calendar_command)
app.command("remind")(remind_command)


cli_voice.register(app)
cli_config.register(app)


def main(argv: Optional[list[str]] = None) -> None:
    """Run the CLI: one error path, one line per failure, no tracebacks unless --debug."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = app(args=args, prog_name="coach", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except _UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()
            sys.exit(ExitStatus.BAD_INPUT)
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "coach"
        print(printable(f"{command}: {exc.format_message()} (see '{command} --help')"), file=sys.stderr)
        sys.exit(ExitStatus.BAD_INPUT)
    except (KeyboardInterrupt, typer.Abort):
        print("coach: stopped", file=sys.stderr)
        sys.exit(ExitStatus.INTERRUPTED)
    except CoachError as exc:
        if debug:
            traceback.print_exc()
        print(f"coach: {printable(exc)}", file=sys.stderr)
        sys.exit(exc.exit_status)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(ExitStatus.ERROR)
    except Exception as exc:  # a bug: still one line unless --debug
        if debug:
            traceback.print_exc()
        print(f"coach: internal error: {type(exc).__name__}: {printable(exc)} (run with --debug for details)",
              file=sys.stderr)
        sys.exit(ExitStatus.ERROR)
    sys.exit(result if isinstance(result, int) else ExitStatus.SUCCESS)
