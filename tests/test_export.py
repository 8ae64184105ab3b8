"""Export to audio files: formats, exact length, chapters, atomic replacement, progress."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
from coach.audio.levels import SPEECH_CLIP_LUFS
from coach.audio.loudness import leveled
import pytest
import soundfile as sf

from coach.export import writer as export
from coach.errors import CoachError, OptionError
from coach.export.writer import SUPPORTED_EXTENSIONS, check_output, export_audio, progress_reporter
from coach.audio.mixer import Mixer
from coach.plan.model import SAMPLE_RATE, Chapter, Cue, Plan, to_samples
from coach.audio.pcm import to_pcm16

ROOT = Path(__file__).resolve().parents[1]
ONE_16_BIT_STEP = 1 / 32767


def make_plan(n_clips: int = 5, gap_s: float = 0.5, seed: int = 0) -> tuple[Plan, dict[str, np.ndarray]]:
    """A small plan of noise 'speech' clips and a beep, with three chapters, plus its clips."""
    rng = np.random.default_rng(seed)
    speech = {f"say {i}": rng.uniform(-0.8, 0.8, int(SAMPLE_RATE * (0.3 + 0.37 * i))).astype(np.float32)
              for i in range(n_clips)}
    cues = []
    at_s = 0.25
    for text, clip in speech.items():
        cues.append(Cue(at_s, len(clip) / SAMPLE_RATE, "speech", text=text))
        at_s += len(clip) / SAMPLE_RATE + gap_s
    beep = np.sin(np.arange(2205) * 0.2).astype(np.float32) * 0.5
    cues.append(Cue(at_s, len(beep) / SAMPLE_RATE, "sound", sound="end"))
    duration_s = at_s + 0.7013
    chapters = (Chapter(0.0, "Introduction"), Chapter(1.5, "Cat --> cow, 2 × 30 s"), Chapter(3.25, "Close"))
    plan = Plan("test", "Test session: feet", duration_s, (), tuple(cues), chapters)
    return plan, speech | {"end": beep}


@pytest.fixture(scope="module")
def small():
    plan, clips = make_plan()
    # speech as the clip cache hands it out: leveled to the speech loudness
    speech = {k: leveled(v, SPEECH_CLIP_LUFS) for k, v in clips.items() if k != "end"}
    mixer = Mixer(plan, speech, {"end": clips["end"]})
    return plan, mixer


def ffprobe(path: Path) -> dict:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-show_streams",
                           "-of", "json", str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def id3_frame_order(path: Path) -> list[str]:
    """The ID3v2.3 tag's frames as stored, each as its id (plus element id for CHAP and CTOC)."""
    data = path.read_bytes()
    assert data[:4] == b"ID3\x03"
    size = int.from_bytes(data[6:10], "big")
    size = sum(((size >> (8 * i)) & 0x7F) << (7 * i) for i in range(4))  # "synchsafe": 7 bits a byte
    at, found = 10, []
    while at + 10 <= 10 + size and data[at:at + 4] != bytes(4):  # zero bytes: padding follows
        frame_id = data[at:at + 4].decode("ascii")
        frame_bytes = int.from_bytes(data[at + 4:at + 8], "big")
        body = data[at + 10:at + 10 + frame_bytes]
        found.append(f"{frame_id} {body.split(bytes(1))[0].decode()}" if frame_id in ("CHAP", "CTOC") else frame_id)
        at += 10 + frame_bytes
    return found


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


class FailingMixer:
    """Yields the real mixer's chunks (or spans), then raises partway through."""

    def __init__(self, mixer: Mixer, fail_after: int, error: BaseException):
        self.mixer, self.fail_after, self.error = mixer, fail_after, error
        self.total_frames = mixer.total_frames

    def _failing(self, pieces):
        for number, piece in enumerate(pieces):
            if number == self.fail_after:
                raise self.error
            yield piece

    def chunks(self, start_frame: int = 0, max_frames: int = 65536):
        return self._failing(self.mixer.chunks(start_frame, 4096))

    def pcm16_spans(self, start_frame: int = 0):
        return self._failing(self.mixer.pcm16_spans(start_frame))


# --- check_output -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["session.txt", "session", "session.wav.bak", "session.m4a"])
def test_check_output_rejects_unsupported_extension(tmp_path, name):
    with pytest.raises(OptionError) as caught:
        check_output(tmp_path / name)
    assert caught.value.option == "OUTPUT"
    assert "supported: .wav, .flac, .ogg, .opus, .mp3" in str(caught.value)


@pytest.mark.parametrize("ext", SUPPORTED_EXTENSIONS + (".MP3", ".Wav"))
def test_check_output_accepts_supported_extensions(tmp_path, ext):
    check_output(tmp_path / f"session{ext}")


def test_check_output_rejects_missing_folder(tmp_path):
    with pytest.raises(OptionError) as caught:
        check_output(tmp_path / "nowhere" / "session.wav")
    assert caught.value.option == "OUTPUT"
    assert "nowhere" in str(caught.value) and "does not exist" in str(caught.value)


def test_check_output_rejects_a_folder_named_like_audio(tmp_path):
    (tmp_path / "x.wav").mkdir()
    with pytest.raises(OptionError, match="is a folder"):
        check_output(tmp_path / "x.wav")


def test_export_checks_output_before_touching_the_mixer(tmp_path, small):
    plan, _ = small

    class Untouchable:
        total_frames = plan.duration_samples

        def blocks(self, *args, **kwargs):
            raise AssertionError("mixer used before the output was checked")

    with pytest.raises(OptionError):
        export_audio(plan, Untouchable(), tmp_path / "out.aiff")
    assert list(tmp_path.iterdir()) == []


# --- the audio is the plan ----------------------------------------------------------------------

@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_lossless_export_equals_the_mix(tmp_path, small, ext):
    plan, mixer = small
    out = tmp_path / f"session{ext}"
    export_audio(plan, mixer, out)
    audio, rate = sf.read(out, dtype="float32")
    assert rate == SAMPLE_RATE
    assert len(audio) == plan.duration_samples
    np.testing.assert_allclose(audio, mixer.render(0, mixer.total_frames), rtol=0, atol=ONE_16_BIT_STEP)
    assert sf.info(out).subtype == "PCM_16"


@pytest.fixture
def writer(request, monkeypatch):
    """Lossy exports through coach's own Opus writer, the system's libsndfile, or soundfile's own libsndfile."""
    from coach.export import opus as opus_file
    from coach.export import system_sndfile

    if request.param == "own":
        assert opus_file.system_libraries() is not None, "this machine has libopus and libogg"
    else:
        monkeypatch.setattr(opus_file, "system_libraries", lambda: None)
    if request.param == "bundled":
        monkeypatch.setattr(system_sndfile, "system_library", lambda: None)
    else:
        assert system_sndfile.system_library() is not None, "this machine has a system libsndfile"
    return request.param


@pytest.mark.parametrize("ext, rate, writer", [
    (".mp3", SAMPLE_RATE, "system"), (".mp3", SAMPLE_RATE, "bundled"),
    (".ogg", SAMPLE_RATE, "system"), (".ogg", SAMPLE_RATE, "bundled"),
    (".opus", export.OPUS_RATE, "own"), (".opus", export.OPUS_RATE, "system"), (".opus", export.OPUS_RATE, "bundled"),
], indirect=["writer"])
def test_lossy_export_has_exact_length_and_the_cues_in_place(tmp_path, small, ext, rate, writer):
    plan, mixer = small
    out = tmp_path / f"session{ext}"
    export_audio(plan, mixer, out)
    audio, read_rate = sf.read(out, dtype="float32")
    assert read_rate == rate
    # libsndfile writes a LAME gapless header for MP3 and Ogg granule positions for Vorbis/Opus (as
    # coach's Opus writer does), so the decoder trims encoder delay and padding: the length is exact.
    assert len(audio) == round(plan.duration_s * rate)
    # Loud where each cue sounds, silent in the gaps between them (within lossy coding noise).
    for cue in plan.cues:
        start, end = to_samples(cue.at_s, rate), to_samples(cue.end_s, rate)
        inside = audio[start + rate // 50:end - rate // 50]
        assert np.sqrt(np.mean(inside ** 2)) > 0.05, cue  # beeps sit some 20 LU under full scale
        gap = audio[end + rate // 20:end + rate // 5]
        assert np.sqrt(np.mean(gap ** 2)) < 0.01, cue


def test_opus_goes_through_coachs_writer_lossy_formats_the_system_library_and_others_soundfile(tmp_path):
    import soundfile

    from coach.export.opus import OpusFileWriter
    from coach.export.system_sndfile import SystemWriter

    expected = {".mp3": SystemWriter, ".ogg": SystemWriter, ".opus": OpusFileWriter}
    for ext in SUPPORTED_EXTENSIONS:
        fmt = export._FORMATS[ext]
        with export._open_writer(tmp_path / f"x{ext}", fmt.rate or SAMPLE_RATE, fmt) as out:
            assert isinstance(out, expected.get(ext, soundfile.SoundFile)), ext
            out.write(np.zeros(100, dtype=np.float32))


def test_opus_falls_back_to_libsndfile_without_libopus_or_libogg(tmp_path, monkeypatch):
    from coach.export import opus as opus_file
    from coach.export.system_sndfile import SystemWriter

    monkeypatch.setattr(opus_file, "system_libraries", lambda: None)
    fmt = export._FORMATS[".opus"]
    with export._open_writer(tmp_path / "x.opus", fmt.rate, fmt) as out:
        assert isinstance(out, SystemWriter)
        out.write(np.zeros(100, dtype=np.float32))
    assert sf.info(tmp_path / "x.opus").frames == 100


def test_system_writer_refuses_a_format_it_does_not_write(tmp_path):
    from coach.export.system_sndfile import open_writer

    assert open_writer(tmp_path / "x.wav", SAMPLE_RATE, "WAV", "PCM_16") is None
    assert open_writer(tmp_path / "x.opus", SAMPLE_RATE, "OGG", "OPUS") is None  # Opus has no 22050 Hz


@pytest.mark.parametrize("ext", [".mp3", ".flac", ".ogg", ".opus"])
def test_chapters_and_title_are_embedded(tmp_path, small, ext):
    plan, mixer = small
    out = tmp_path / f"session{ext}"
    export_audio(plan, mixer, out)
    probed = ffprobe(out)
    assert [(float(c["start_time"]), c["tags"]["title"]) for c in probed["chapters"]] == \
        [(pytest.approx(c.start_s, abs=0.0005), c.title) for c in plan.chapters]
    tags = probed["format"].get("tags", {}) | probed["streams"][0].get("tags", {})
    assert {k.lower(): v for k, v in tags.items()}["title"] == plan.title


def test_mp3_table_of_contents_orders_the_chapters(tmp_path, small):
    from mutagen.id3 import ID3

    plan, mixer = small
    out = tmp_path / "session.mp3"
    export_audio(plan, mixer, out)
    tags = ID3(out)
    order = tags["CTOC:toc"].child_element_ids
    starts = [tags[f"CHAP:{element}"].start_time for element in order]
    titles = [tags[f"CHAP:{element}"].sub_frames["TIT2"].text[0] for element in order]
    assert starts == [round(c.start_s * 1000) for c in plan.chapters]
    assert titles == [c.title for c in plan.chapters]
    ends = [tags[f"CHAP:{element}"].end_time for element in order]
    assert ends == starts[1:] + [round(plan.duration_s * 1000)]


def test_mp3_chapter_frames_are_stored_in_time_order(tmp_path, small):
    plan, mixer = small
    # Titles whose lengths rise and fall, so ordering the frames by size would scramble them.
    titles = ["A rather long introduction to the session", "Go", "Third part",
              "A middling fourth", "5", "Sixth, which is longer than most of them", "Seventh",
              "Eighth part", "Ninth", "Tenth and nearly last, with a long name", "Close"]
    step_s = plan.duration_s / len(titles)
    plan = replace(plan, chapters=tuple(Chapter(round(i * step_s, 3), t) for i, t in enumerate(titles)))
    out = tmp_path / "session.mp3"
    export_audio(plan, mixer, out)
    probed = ffprobe(out)
    assert [(float(c["start_time"]), c["tags"]["title"]) for c in probed["chapters"]] == \
        [(pytest.approx(c.start_s, abs=0.0005), c.title) for c in plan.chapters]
    assert probed["format"]["tags"]["title"] == plan.title
    # In the file: the title, the table of contents, then the chapters in time order.
    assert id3_frame_order(out) == ["TIT2", "CTOC toc"] + [f"CHAP chp{n:03d}" for n in range(1, len(titles) + 1)]


def test_wav_has_the_title_and_no_chapters(tmp_path, small):
    plan, mixer = small
    out = tmp_path / "session.wav"
    export_audio(plan, mixer, out)
    probed = ffprobe(out)
    assert probed["chapters"] == []
    assert probed["format"]["tags"]["title"] == plan.title


def test_wav_silence_is_left_as_holes_and_reads_back_as_zeros(tmp_path):
    beep = (np.sin(np.arange(2205) * 0.3) * 0.5).astype(np.float32)
    plan = Plan("quiet", "A quiet session", 120.0, (), (Cue(1.0, 0.1, "sound", sound="pip"),
                                                      Cue(100.0, 0.1, "sound", sound="pip")), ())
    mixer = Mixer(plan, {}, {"pip": beep})
    out = tmp_path / "quiet.wav"
    export_audio(plan, mixer, out)
    audio, rate = sf.read(out, dtype="int16")
    assert len(audio) == plan.duration_samples and rate == SAMPLE_RATE
    assert np.array_equal(audio, to_pcm16(mixer.render(0, mixer.total_frames)))
    # Two beeps 99 s apart in two minutes: the file's 5 MB take a few blocks on disk, not 5 MB of zeros.
    assert out.stat().st_size > 5_000_000
    assert out.stat().st_blocks * 512 < 500_000
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-f", "null", "-"],
                             capture_output=True, text=True, check=True)
    assert decoded.stderr == ""


def test_new_file_gets_ordinary_permissions_and_replacement_keeps_them(tmp_path, small):
    plan, mixer = small
    out = tmp_path / "session.wav"
    umask = os.umask(0o022)
    try:
        export_audio(plan, mixer, out)
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644
    out.chmod(0o640)
    export_audio(plan, mixer, out)
    assert out.stat().st_mode & 0o777 == 0o640


def test_progress_reports_every_block_up_to_the_total(tmp_path, small):
    plan, mixer = small
    calls = []
    export_audio(plan, mixer, tmp_path / "session.opus", progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (mixer.total_frames, mixer.total_frames)
    assert all(total == mixer.total_frames for _, total in calls)
    dones = [done for done, _ in calls]
    assert dones == sorted(dones) and len(set(dones)) == len(dones)


def test_mixer_falling_short_is_an_error(tmp_path, small):
    plan, mixer = small

    class Short:
        total_frames = mixer.total_frames

        def chunks(self, start_frame=0, max_frames=65536):
            yield mixer.render(0, 1000)
            yield 500

    with pytest.raises(CoachError, match="1500 frames"):
        export_audio(plan, Short(), tmp_path / "session.flac")
    assert list(tmp_path.iterdir()) == []


# --- atomic replacement ---------------------------------------------------------------------------

# Exception classes, not instances: a raised instance kept in the parameters for the whole run would
# keep its traceback, and every frame in it, alive until the interpreter exits.
@pytest.mark.parametrize("error_type", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("ext", [".wav", ".mp3", ".opus"])
def test_existing_output_survives_a_failed_export(tmp_path, small, ext, error_type):
    plan, mixer = small
    out = tmp_path / f"session{ext}"
    out.write_bytes(b"the old session")
    error = error_type("mixer broke")
    with pytest.raises(BaseException) as caught:
        export_audio(plan, FailingMixer(mixer, fail_after=3, error=error), out)
    assert caught.value is error
    assert out.read_bytes() == b"the old session"
    assert leftovers(tmp_path) == []


class FullDisk:
    """An encoder that takes two blocks and then fails as a full disk would, like libsndfile's writers."""

    subtype = "PCM_16"

    def __init__(self):
        self.blocks = 0

    def write(self, frames):
        self.blocks += 1
        if self.blocks > 2:
            raise OSError(28, "No space left on device")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass


@pytest.mark.parametrize("ext", [".flac", ".opus"])
def test_an_encoder_failing_mid_way_is_one_error_and_the_old_file_survives(tmp_path, small, monkeypatch, ext):
    plan, mixer = small
    out = tmp_path / f"session{ext}"
    out.write_bytes(b"the old session")
    monkeypatch.setattr(export, "BLOCK_FRAMES", 4096)  # many blocks, so the failure comes mid-way
    monkeypatch.setattr(export, "_open_writer", lambda path, rate, fmt: FullDisk())
    with pytest.raises(CoachError, match=f"could not write {out}: .*No space left"):
        export_audio(plan, mixer, out)
    assert out.read_bytes() == b"the old session"
    assert leftovers(tmp_path) == []


def test_a_full_disk_during_a_wav_export_is_one_error_and_the_old_file_survives(tmp_path, small, monkeypatch):
    from coach.audio import wavfile

    plan, mixer = small
    out = tmp_path / "session.wav"
    out.write_bytes(b"the old session")
    writes, real_pwrite = [], os.pwrite

    def pwrite(fd, data, offset):
        writes.append(offset)
        if len(writes) > 1:  # the header goes in, the samples do not
            raise OSError(28, "No space left on device")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(wavfile.os, "pwrite", pwrite)
    with pytest.raises(CoachError, match=f"could not write {out}: .*No space left"):
        export_audio(plan, mixer, out)
    assert len(writes) == 2
    assert out.read_bytes() == b"the old session"
    assert leftovers(tmp_path) == []


def test_failed_first_export_leaves_nothing(tmp_path, small):
    plan, mixer = small
    with pytest.raises(RuntimeError, match="broke"):
        export_audio(plan, FailingMixer(mixer, fail_after=2, error=RuntimeError("broke")), tmp_path / "s.flac")
    assert list(tmp_path.iterdir()) == []


def test_failed_opus_export_lets_go_of_its_resampler(tmp_path, small):
    import gc

    import soxr

    def resamplers() -> set[int]:
        gc.collect()
        return {id(o) for o in gc.get_objects() if isinstance(o, soxr.ResampleStream)}

    plan, mixer = small
    before = resamplers()
    with pytest.raises(RuntimeError, match="broke") as caught:
        export_audio(plan, FailingMixer(mixer, fail_after=2, error=RuntimeError("broke")), tmp_path / "s.opus")
    # The error (and so its traceback, down to the resampling frame) is still held here.
    assert caught.value.__traceback__ is not None
    assert resamplers() - before == set()


def test_sigterm_during_export_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    out = tmp_path / "session.flac"
    out.write_bytes(b"the old session")
    script = tmp_path / "run_export.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests")!r}]  # this tree's coach, not an installed one
        from pathlib import Path
        from test_export import make_plan
        from coach.export.writer import export_audio
        from coach.audio.mixer import Mixer

        plan, clips = make_plan(n_clips=40, gap_s=20.0)
        sounds = {{"end": clips.pop("end")}}

        def progress(done, total):
            print("progress", done, total, flush=True)
            time.sleep(0.05)  # keep the export running long enough to be interrupted midway

        export_audio(plan, Mixer(plan, clips, sounds), Path({str(out)!r}), progress)
        print("finished", flush=True)
    """))
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        first = child.stdout.readline()
        assert first.startswith("progress"), first
        assert len(leftovers(tmp_path)) == 1  # the hidden temporary beside OUTPUT, being written
        child.send_signal(signal.SIGTERM)
        rest = child.stdout.read()
        assert child.wait(timeout=30) == -signal.SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "finished" not in rest
    assert out.read_bytes() == b"the old session"
    assert leftovers(tmp_path) == []


# --- progress bar ------------------------------------------------------------------------------

def test_no_progress_bar_when_stderr_is_not_a_terminal():
    assert progress_reporter(io.StringIO()) is None


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_appears_only_after_a_moment(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(export.time, "monotonic", lambda: clock[0])
    terminal = FakeTerminal()
    report = progress_reporter(terminal)
    assert report is not None
    report(0, 1000)
    clock[0] += 0.2
    report(100, 1000)
    assert report.bar is None and terminal.getvalue() == ""
    clock[0] += 0.5
    report(500, 1000)
    assert report.bar is not None
    report(1000, 1000)
    assert report.bar is None  # finished: the bar is taken down
    assert "exporting" in terminal.getvalue()


def test_quick_export_never_shows_a_bar(tmp_path, small):
    plan, mixer = small
    terminal = FakeTerminal()
    export_audio(plan, mixer, tmp_path / "session.wav", progress_reporter(terminal))
    assert terminal.getvalue() == ""
