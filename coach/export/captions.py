"""Captions of a plan's speech cues as SubRip (.srt) or WebVTT (.vtt), written atomically."""

from __future__ import annotations

from pathlib import Path

from coach.errors import CoachError, OptionError
from coach.files import atomic_output, check_writable_folder
from coach.plan.model import CueKind, Plan
from coach.timefmt import hms_stamp
from coach.i18n import _

CAPTION_EXTENSIONS = (".srt", ".vtt")


def check_captions(path: Path) -> None:
    """Raise OptionError("--captions") unless path is .srt or .vtt in a writable folder."""
    path = Path(path)
    if path.suffix.lower() not in CAPTION_EXTENSIONS:
        raise OptionError("--captions", _("{path}: unknown extension {suffix}; supported: {names}").format(
            path=path, suffix=path.suffix or _("(none)"), names=", ".join(CAPTION_EXTENSIONS)))
    check_writable_folder(path, "--captions")


def _lines(text: str) -> list[str]:
    """The text's non-blank lines: a blank line would end the cue early in both formats."""
    return [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


def _srt_text(text: str) -> str:
    # SubRip has no escapes; a caption line holding the timing arrow could be read as a timing line.
    return "\n".join(line.replace("-->", "->") for line in _lines(text))


def _vtt_text(text: str) -> str:
    # WebVTT cue text is markup: & < > must be escaped, which also turns any "-->" into "--&gt;".
    escaped = (line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in _lines(text))
    return "\n".join(escaped)


def _speech(plan: Plan):
    for cue in plan.cues:
        if cue.kind == CueKind.SPEECH and cue.text and _lines(cue.text):
            yield cue


def srt(plan: Plan) -> str:
    """The plan's speech cues as a SubRip document."""
    blocks = []
    for number, cue in enumerate(_speech(plan), start=1):
        timing = f"{hms_stamp(cue.at_s, ',')} --> {hms_stamp(cue.end_s, ',')}"
        blocks.append(f"{number}\n{timing}\n{_srt_text(cue.text)}\n")
    return "\n".join(blocks)


def vtt(plan: Plan) -> str:
    """The plan's speech cues as a WebVTT document."""
    blocks = ["WEBVTT\n"]
    for number, cue in enumerate(_speech(plan), start=1):
        timing = f"{hms_stamp(cue.at_s, '.')} --> {hms_stamp(cue.end_s, '.')}"
        blocks.append(f"{number}\n{timing}\n{_vtt_text(cue.text)}\n")
    return "\n".join(blocks)


def write_captions(plan: Plan, path: Path) -> None:
    """Write the plan's speech cues to path as .srt or .vtt (by extension), replacing it atomically."""
    path = Path(path)
    check_captions(path)
    document = srt(plan) if path.suffix.lower() == ".srt" else vtt(plan)
    try:
        with atomic_output(path) as tmp:
            tmp.write_text(document, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise CoachError(_("could not write {path}: {reason}").format(path=path, reason=exc)) from exc
