"""Title and chapter tags for exported files: ID3v2.3 CHAP/CTOC in MP3, Vorbis comments in FLAC, Ogg and Opus."""

from __future__ import annotations

import io
from pathlib import Path

from coach.errors import CoachError
from coach.plan.model import Plan
from coach.timefmt import hms_stamp
from coach.i18n import _

ID3_HEADER_BYTES = 10  # an ID3v2 tag starts with a 10-byte header, then its frames, then padding
ID3_SPARE_BYTES = 1024  # padding left in the MP3 tag so a tag editor can add to it in place


def _tag_vorbis(tags, plan: Plan) -> None:
    tags["TITLE"] = plan.title
    for number, chapter in enumerate(plan.chapters, start=1):
        tags[f"CHAPTER{number:03d}"] = hms_stamp(chapter.start_s)
        tags[f"CHAPTER{number:03d}NAME"] = chapter.title


def _id3_frame_bytes(frame) -> bytes:
    """One frame as ID3v2.3 bytes, encoded by mutagen's public save() into memory."""
    from mutagen.id3 import ID3

    alone = ID3()
    alone.add(frame)
    buffer = io.BytesIO()
    alone.save(buffer, v1=0, v2_version=3, padding=lambda info: 0)
    return buffer.getvalue()[ID3_HEADER_BYTES:]


def _tag_mp3(path: Path, plan: Plan) -> None:
    from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags

    frames = [TIT2(encoding=3, text=[plan.title])]
    ids = [f"chp{number:03d}" for number in range(1, len(plan.chapters) + 1)]
    if ids:
        frames.append(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                           child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=[plan.title])]))
    end_ms = round(plan.duration_s * 1000)
    for i, chapter in enumerate(plan.chapters):
        next_ms = round(plan.chapters[i + 1].start_s * 1000) if i + 1 < len(plan.chapters) else end_ms
        frames.append(CHAP(element_id=ids[i], start_time=round(chapter.start_s * 1000), end_time=next_ms,
                           sub_frames=[TIT2(encoding=3, text=[chapter.title])]))
    # mutagen writes frames sorted by size (mutagen issue #506), but players such as ffmpeg list
    # chapters in frame order. So mutagen encodes each frame and makes room for the tag (moving the
    # audio), and the frames go into that room in time order; what is left over is ordinary padding.
    # ID3v2.3 is what most podcast players read chapters from.
    body = b"".join(_id3_frame_bytes(frame) for frame in frames)
    ID3().save(path, v2_version=3, padding=lambda info: len(body) + ID3_SPARE_BYTES)
    with open(path, "r+b") as tagged:
        tagged.seek(ID3_HEADER_BYTES)
        tagged.write(body)


def add_tags(path: Path, ext: str, plan: Plan, output: Path) -> None:
    """Write the title and chapters into a finished FLAC, Ogg, Opus or MP3 file (CoachError if mutagen fails)."""
    from mutagen import MutagenError

    try:
        _tag(path, ext, plan)
    except MutagenError as exc:
        raise CoachError(_("could not tag {output}: {reason}").format(output=output, reason=exc)) from exc


def _tag(path: Path, ext: str, plan: Plan) -> None:
    if ext == ".mp3":
        _tag_mp3(path, plan)
        return
    if ext == ".flac":
        from mutagen.flac import FLAC as Tagged
    elif ext == ".ogg":
        from mutagen.oggvorbis import OggVorbis as Tagged
    else:
        from mutagen.oggopus import OggOpus as Tagged
    audio = Tagged(path)
    if audio.tags is None:
        audio.add_tags()
    _tag_vorbis(audio.tags, plan)
    audio.save()
