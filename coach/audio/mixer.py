"""The mixer: lays every cue of a plan on one silent timeline, rendered block by block on demand.

Only the samples where a cue sounds are computed: silence stays zeros, and chunks() hands it out as
a length, so an export writes it in bulk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import numpy as np

from coach.errors import CoachError
from coach.plan.model import CueKind, Plan, to_samples
from coach.audio.pcm import to_pcm16
from coach.audio.levels import BEEP_OFFSET_LU, DEFAULT_LOUDNESS_LUFS, SPEECH_CLIP_LUFS

if TYPE_CHECKING:
    from coach.audio.clipfigures import ClipFigures, ClipMeasures, Limited

# Samples with |x| up to the knee pass unchanged; above it they bend smoothly towards 1.0.
LIMIT_KNEE = np.float32(0.9)
# Silence shorter than this (0.74 s) between two cues is rendered with them rather than handed out alone.
MIN_SILENCE_FRAMES = 16384


def soft_limit(mix: np.ndarray) -> np.ndarray:
    """Bends samples above LIMIT_KNEE smoothly into [-1, 1], in place; pointwise, so blocks agree."""
    # Most audio never reaches the knee: two reductions tell so without the arrays a mask needs.
    if not len(mix) or max(float(mix.max()), -float(mix.min())) <= LIMIT_KNEE:
        return mix
    loud = np.abs(mix) > LIMIT_KNEE
    if np.any(loud):
        over = np.abs(mix[loud]) - LIMIT_KNEE
        span = np.float32(1.0) - LIMIT_KNEE
        # A rational curve: slope 1 at the knee (no kink), approaches but never passes 1.0, and uses
        # only correctly rounded arithmetic, so vectorised and scalar paths agree bit for bit.
        bent = LIMIT_KNEE + span * (over / (over + span))
        mix[loud] = np.copysign(np.minimum(bent, np.float32(1.0)), mix[loud])
    return mix


def _checked_volume(value: float, what: str) -> np.float32:
    """A volume fraction 0.0..1.0; the CLI checks the user's percentages before they get here."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be a fraction from 0 to 1, got {value!r}")
    return np.float32(value)


def _checked_clip(clip: np.ndarray, what: str, measures: ClipMeasures, key: tuple[str, str]) -> np.ndarray:
    """A clip as a 1-D finite float32 array, or CoachError naming what it is."""
    samples = np.asarray(clip, dtype=np.float32)
    if samples.ndim != 1:
        raise CoachError(f"{what}: expected mono audio, got an array of shape {samples.shape}")
    # The clip's true peak is finite exactly when all its samples are (NaN and infinity carry into it),
    # and it is measured once per clip anyway (a cached clip's comes with it, read from disk).
    with np.errstate(invalid="ignore", over="ignore"):  # a bad clip is reported below, not warned about
        peak = measures.figures(key, samples).peak if len(samples) else 0.0
    if not np.isfinite(peak):
        raise CoachError(f"{what}: the audio contains NaN or infinite samples")
    return samples


def _db(gain_db: float) -> np.float32:
    return np.float32(10 ** (gain_db / 20))


class Mixer:
    """Renders a plan's speech and sound cues into float32 mono frames at SAMPLE_RATE.

    Speech clips come leveled to SPEECH_CLIP_LUFS (the clip cache does it); the voice is raised to
    loudness_lufs and each sound is measured and set BEEP_OFFSET_LU from the voice; all then move
    together so the session's planned loudness meets loudness_lufs, then the volumes
    scale them. Each clip at its gain passes the true-peak limiter once, when it is first needed.
    A clip's figures and limited forms come from `measures` (the clip cache keeps them on disk), else
    they are measured for this mixer alone.
    """

    def __init__(self, plan: Plan, speech: Mapping[str, np.ndarray], sounds: Mapping[str, np.ndarray],
                 voice_volume: float = 1.0, beep_volume: float = 1.0,
                 loudness_lufs: float = DEFAULT_LOUDNESS_LUFS, lift_db: float | None = None,
                 measures: ClipMeasures | None = None):
        if measures is None:
            from coach.audio.clipfigures import ClipMeasures

            measures = ClipMeasures()
        self._measures = measures
        self.plan = plan
        self.total_frames: int = plan.duration_samples
        voice_volume = _checked_volume(voice_volume, "voice_volume")
        beep_volume = _checked_volume(beep_volume, "beep_volume")
        base_voice_gain = _db(loudness_lufs - SPEECH_CLIP_LUFS)
        base_sound_gains: dict[str, float] = {}

        # Each distinct clip is checked once and shared by all the cues that use it. Its gain is applied
        # as it is first rendered (see _ready), so no scaled copy of every clip is made up front.
        checked: dict[tuple[str, str], np.ndarray] = {}
        placed: list[tuple[int, int, np.ndarray, float, tuple[str, str]]] = []
        for cue in plan.cues:
            if cue.kind == CueKind.SPEECH:
                key, source = ("speech", cue.text), speech
                what = f"speech {cue.text!r} at {cue.at_s:.3f} s"
            elif cue.kind == CueKind.SOUND:
                key, source = ("sound", cue.sound), sounds
                what = f"sound {cue.sound!r} at {cue.at_s:.3f} s"
            else:
                raise CoachError(f"cue at {cue.at_s:.3f} s: unknown kind {cue.kind!r}")
            if key not in checked:
                if key[1] not in source:
                    raise CoachError(f"no audio for {what}")
                checked[key] = _checked_clip(source[key[1]], what, measures, key)
            clip = checked[key]
            if key[0] == "speech":
                gain = float(base_voice_gain)
            else:
                if cue.sound not in base_sound_gains:
                    from coach.audio.loudness import SILENT_LUFS

                    measured = measures.loudness(key, clip)  # as gain_to() has it, measured once per sound
                    base_sound_gains[cue.sound] = (1.0 if measured < SILENT_LUFS else
                                                   10 ** ((loudness_lufs + BEEP_OFFSET_LU - measured) / 20))
                gain = base_sound_gains[cue.sound]
            start = to_samples(cue.at_s)
            end = min(start + len(clip), self.total_frames)
            if end > max(start, 0):
                placed.append((start, end, clip, gain, key))

        # Planned, not guessed: the session's loudness at these gains is worked out from the clips and
        # where they land, and every gain moves by what it misses the target by (a session of short
        # sentences with long silences between them measures lower than its speech). The volumes then
        # scale the voice and the beeps from there.
        # A session whose close is planned again mid-way passes the lift it had, so its audio does not move.
        if lift_db is None:
            lift_db = 0.0
            if placed:
                from coach.audio.loudness import planned_lufs

                figures: dict[tuple[str, str], ClipFigures] = {}
                for p in placed:
                    if p[4] not in figures:
                        figures[p[4]] = measures.figures(p[4], p[2])
                measured = planned_lufs([(p[0], figures[p[4]], p[3]) for p in placed], self.total_frames)
                if np.isfinite(measured):
                    lift_db = loudness_lufs - measured
        self.lift_db: float = lift_db  # what every gain moved by to meet the target
        lift = 10 ** (lift_db / 20)
        self.voice_gain = np.float32(float(base_voice_gain) * lift) * voice_volume
        self.sound_gains = {name: np.float32(g * lift) * beep_volume for name, g in base_sound_gains.items()}
        placed = [(start, end, clip, self.voice_gain if key[0] == "speech" else self.sound_gains[key[1]], key)
                  for start, end, clip, _, key in placed]

        placed.sort(key=lambda item: item[0])  # stable: equal starts keep plan order
        self._starts = np.array([p[0] for p in placed], dtype=np.int64)
        ends = np.array([p[1] for p in placed], dtype=np.int64)
        # Running maximum of the ends lets a binary search find the first cue that can still sound,
        # even if cues overlap.
        self._max_end_upto = np.maximum.accumulate(ends) if len(ends) else ends
        self._ends = ends
        self._clips = [p[2] for p in placed]
        self._gains = [p[3] for p in placed]
        self.placed_keys = [p[4] for p in placed]  # ("speech", text) or ("sound", name), in time order
        # The stretches where something sounds: cues merged into one where less than MIN_SILENCE_FRAMES
        # of silence parts them (a short gap costs less to render than to hand out on its own). Between
        # the stretches the session is exactly zero, which chunks() hands out as a length, not as samples.
        if len(ends):
            breaks = self._starts[1:] - self._max_end_upto[:-1] >= MIN_SILENCE_FRAMES
            self._span_starts = np.maximum(self._starts[np.concatenate(([True], breaks))], 0)
            self._span_ends = self._max_end_upto[np.concatenate((breaks, [True]))]
        else:
            self._span_starts = self._span_ends = ends
        # A cue that overlaps no other sounds alone, so its 16-bit samples are those of its clip at its
        # gain, whatever the block: computed once per clip and gain, then copied (the planner never
        # overlaps cues; overlapping ones are mixed in floats as render() does).
        previous_end = np.concatenate(([-1], self._max_end_upto[:-1]))
        next_start = np.concatenate((self._starts[1:], [np.iinfo(np.int64).max]))
        self._alone = (self._starts >= previous_end) & (ends <= next_start)
        self._pcm16: dict[tuple[int, float], np.ndarray] = {}
        self._limited: dict[tuple[int, float], Limited] = {}

    def _ready(self, i: int) -> Limited:
        """Cue i's clip at its gain through the true-peak limiter: computed once per clip and gain."""
        key = (id(self._clips[i]), float(self._gains[i]))
        found = self._limited.get(key)
        if found is None:
            found = self._measures.limited(self.placed_keys[i], self._clips[i], self._gains[i])
            self._limited[key] = found
        return found

    def placed_clip(self, i: int) -> np.ndarray:
        """The samples the i-th placed cue (see placed_keys) sounds: its clip at its gain, limited."""
        clip = self._clips[i]
        return self._ready(i).part(clip, 0, len(clip))

    def integrated_lufs(self) -> float:
        """The mix's integrated loudness (BS.1770): each limited clip's filtered energy where it sounds.

        These are the samples render() and pcm16_spans() hand out; cues that overlap are mixed first.
        Each distinct clip is filtered once, so this costs a fraction of filtering the whole session.
        """
        from coach.audio.clipfigures import measure
        from coach.audio.loudness import planned_lufs

        pieces: list[tuple[int, ClipFigures, float]] = []
        i = 0
        while i < len(self._starts):
            if self._alone[i]:
                pieces.append((int(self._starts[i]), self._ready(i).figures, 1.0))  # cut at the end by planned_lufs
                i += 1
                continue
            j = i + 1
            while j < len(self._starts) and self._starts[j] < self._max_end_upto[j - 1]:
                j += 1
            lo, hi = max(int(self._starts[i]), 0), int(self._max_end_upto[j - 1])
            pieces.append((lo, measure(self.render(lo, hi)), 1.0))
            i = j
        return planned_lufs(pieces, self.total_frames)

    def true_peak_dbtp(self) -> float:
        """The session's true peak (4x oversampled): the highest of its limited clips, which sound apart."""
        peak = max((self._ready(i).figures.peak for i in range(len(self._clips))), default=0.0)
        return 20 * float(np.log10(peak)) if peak > 0 else float("-inf")

    def render(self, start_frame: int, end_frame: int) -> np.ndarray:
        """Frames [start_frame, end_frame) of the session as float32 mono within [-1, 1]."""
        if start_frame < 0 or end_frame < start_frame:
            raise ValueError(f"bad frame range [{start_frame}, {end_frame})")
        out = np.zeros(end_frame - start_frame, dtype=np.float32)
        first = int(np.searchsorted(self._max_end_upto, start_frame, side="right"))
        stop = int(np.searchsorted(self._starts, end_frame, side="left"))
        touched_lo, touched_hi = end_frame, start_frame
        for i in range(first, stop):
            cue_start, cue_end = int(self._starts[i]), int(self._ends[i])
            lo, hi = max(cue_start, start_frame), min(cue_end, end_frame)
            if lo < hi:
                limited, clip = self._ready(i), self._clips[i]
                into = out[lo - start_frame:hi - start_frame]
                if lo >= touched_hi:  # still zeros: the clip goes straight in (the same float32 as 0 + x)
                    limited.part(clip, lo - cue_start, hi - cue_start, out=into)
                else:
                    into += limited.part(clip, lo - cue_start, hi - cue_start)
                touched_lo, touched_hi = min(touched_lo, lo), max(touched_hi, hi)
        if touched_lo < touched_hi:  # silence needs no limiting
            soft_limit(out[touched_lo - start_frame:touched_hi - start_frame])
        return out

    def _clip_pcm16(self, i: int) -> np.ndarray:
        """Cue i's whole clip as 16-bit samples at its gain: the same integers render() and to_pcm16 give."""
        key = (id(self._clips[i]), float(self._gains[i]))
        found = self._pcm16.get(key)
        if found is None:
            limited = self._ready(i)
            if limited.figures.peak > LIMIT_KNEE:  # a true peak is never under any sample's magnitude
                found = to_pcm16(soft_limit(self.placed_clip(i)))
            else:
                found = limited.pcm16(self._clips[i])
            self._pcm16[key] = found
        return found

    def pcm16_spans(self, start_frame: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """Where something sounds from start_frame on, as (start frame, int16 samples), in time order and
        never overlapping; every other frame is exact silence. Equal to to_pcm16(render()) frame for frame."""
        first = int(np.searchsorted(self._max_end_upto, start_frame, side="right"))
        i = first
        while i < len(self._starts):
            lo = max(int(self._starts[i]), start_frame)
            if self._alone[i]:
                offset = lo - int(self._starts[i])
                yield lo, self._clip_pcm16(i)[offset:int(self._ends[i]) - int(self._starts[i])]
                i += 1
                continue
            j = i + 1  # the cues that overlap one another from i on, mixed together
            while j < len(self._starts) and self._starts[j] < self._max_end_upto[j - 1]:
                j += 1
            hi = int(self._max_end_upto[j - 1])
            yield lo, to_pcm16(self.render(lo, hi))
            i = j

    def pcm16(self, start_frame: int, end_frame: int) -> np.ndarray:
        """Frames [start_frame, end_frame) as int16, equal to to_pcm16(render()): silence is left as zeros
        and each clip converted once, however many cues say it."""
        out = np.zeros(max(0, end_frame - start_frame), dtype=np.int16)
        for at, samples in self.pcm16_spans(start_frame):
            if at >= end_frame:
                break
            part = samples[:end_frame - at]
            out[at - start_frame:at - start_frame + len(part)] = part
        return out

    def blocks(self, start_frame: int = 0, block_frames: int = 65536) -> Iterator[np.ndarray]:
        """Consecutive render() blocks from start_frame to total_frames."""
        if block_frames <= 0:
            raise ValueError(f"block_frames must be positive, got {block_frames}")
        for lo in range(start_frame, self.total_frames, block_frames):
            yield self.render(lo, min(lo + block_frames, self.total_frames))

    def chunks(self, start_frame: int = 0, max_frames: int = 65536) -> Iterator[np.ndarray | int]:
        """The session from start_frame to the end in pieces of at most max_frames: a rendered array
        where a cue sounds, or an int, the length of a stretch of exact silence, to be written in bulk."""
        if max_frames <= 0:
            raise ValueError(f"max_frames must be positive, got {max_frames}")
        at = start_frame
        first = int(np.searchsorted(self._span_ends, start_frame, side="right"))
        for span_start, span_end in zip(self._span_starts[first:].tolist(), self._span_ends[first:].tolist()):
            yield from self._pieces(at, min(span_start, self.total_frames), max_frames, silent=True)
            at = max(at, span_start)
            yield from self._pieces(at, min(span_end, self.total_frames), max_frames, silent=False)
            at = max(at, span_end)
        yield from self._pieces(at, self.total_frames, max_frames, silent=True)

    def _pieces(self, lo: int, hi: int, max_frames: int, silent: bool) -> Iterator[np.ndarray | int]:
        for at in range(lo, hi, max_frames):
            end = min(at + max_frames, hi)
            yield end - at if silent else self.render(at, end)
