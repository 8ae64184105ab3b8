"""The planner: a pure function from routine + settings + clip lengths to a timed `Plan`.

It never sleeps, reads a clock or touches audio. All placement is done in whole samples so that
every dose lasts exactly its seconds at the session's sample rate.
"""

from __future__ import annotations

from typing import Callable

from coach.plan.cues import Clip, Priority, Request, fit, frames, length_frames
from coach.plan.model import (SAMPLE_RATE, SOUND_END, SOUND_PIP, SOUND_REST, SOUND_START, SOUND_STOP, Chapter, Cue,
                              CueKind, ExerciseSummary, Plan, Step, StepKind)
from coach.plan.settings import ClipDuration, Settings
from coach.routine import Exercise, Routine

Speech = Callable[[str], Clip | None]
Forms = list[tuple[Priority, Clip]]

TALK_GAP_S = 0.4  # pause between sentences of an announcement
FLEX_GAP_S = 0.25  # breathing room around speech placed freely in a gap
REST_BEEP_GAP_S = 0.1  # the rest beep follows the stop cue closely
REP_GAP_S = 0.15  # the next rep's number sits between the stop cue and the next start cue, close to both
TAIL_S = 1.0  # silence after the final sound
MIN_TIP_STEP_S = 8.0  # steps shorter than this get no tip
HALFWAY_MIN_REPS = 6  # a series of at least this many reps gets a "halfway" mark before its middle rep
REPLAN_LIMIT = 4  # rounds of the introduction's minutes at most (see plan())

# Free cues of a rest are said in this order.
SEQ_BEEP, SEQ_MILESTONE, SEQ_NEXT, SEQ_TIP = range(4)
INTRO, BODY, CLOSE = range(3)  # the parts a text's length is asked in; the body counts from its own start


class _Builder:
    """The planner's walk over the exercises, laying steps end to end from frame 0 and placing their cues.

    What it lays out does not depend on where it starts (fit is translation-invariant), so the body is
    laid out once and the introduction, whose length depends on the minutes it says, is put before it.
    """

    def __init__(self, routine: Routine, settings: Settings, clip_duration: ClipDuration):
        self.routine, self.settings, self.clip_duration = routine, settings, clip_duration
        self.script = settings.script
        self.cursor_frames = 0  # where the next step starts
        self.steps: list[tuple[StepKind, int, int, dict]] = []  # kind, start and end frames, where
        self.cues: list[tuple[int, Clip]] = []
        self.dropped: list[tuple[int, Clip]] = []
        self.chapters: list[tuple[int, str, int | None]] = []  # start frame, title, exercise position
        self.exercises: list[tuple[int, Exercise, int, int]] = []  # position, exercise, start and end frames
        # The stop cue of a dose falls exactly on its end, so it is placed with the step that follows.
        self.pending_stop: Forms = []
        self.tip_turn: dict[str, int] = {}
        self.clips: dict[str, Clip] = {}  # each text is measured once
        self.sounds: dict[str, Clip] = {}
        self.fits: dict = {}  # fit's memo: series repeat the same steps
        self.needed: dict[str, tuple[int, int]] = {}  # each text's earliest use: (part, frame)
        self.asking: tuple[int, int] | None = None  # where in_turn is placing a line; else the body's cursor
        self.shift_frames = 0  # where the body starts, once plan() put the introduction before it

    # -- sources of sound -------------------------------------------------------------------
    def speech(self, text: str) -> Clip | None:
        if not self.settings.speech:
            return None
        at = self.asking if self.asking is not None else (BODY, self.cursor_frames)
        self.needed[text] = min(self.needed.get(text, at), at)  # the parts follow one another in time
        if text not in self.clips:
            seconds = float(self.clip_duration(text))
            self.clips[text] = Clip(CueKind.SPEECH, text, None, seconds, length_frames(seconds))
        return self.clips[text]

    def sound(self, name: str) -> Clip:
        if name not in self.sounds:
            seconds = float(self.settings.sound_s[name])
            self.sounds[name] = Clip(CueKind.SOUND, None, name, seconds, length_frames(seconds))
        return self.sounds[name]

    def said(self, rank: Priority, *texts: str) -> Forms:
        """Spoken forms of a cue, best first, all kept at `rank` (none in a session without speech)."""
        return [(rank, clip) for text in texts if (clip := self.speech(text)) is not None]

    # -- steps ------------------------------------------------------------------------------
    def add_step(self, kind: StepKind, end_frames: int, where: dict) -> None:
        self.steps.append((kind, self.cursor_frames, end_frames, where))
        self.cursor_frames = end_frames

    def talk(self, kind: StepKind, lines: list[str], where: dict) -> None:
        """A step sized to fit its sentences, one after another."""
        clips = [self.pending_stop[0][1]] if self.pending_stop else []
        self.pending_stop = []
        placed, end_frames = self.in_turn(self.cursor_frames, clips, lines, self.speech)
        self.cues += placed
        self.add_step(kind, end_frames, where)

    def in_turn(self, at_frames: int, clips: list[Clip], lines: list[str], speech: Speech,
                end_sound: str | None = None, part: int = BODY) -> tuple[list[tuple[int, Clip]], int]:
        """`clips` and `lines` one after another from `at_frames`, maybe a closing sound: where each starts, the end."""
        placed = []
        for item in clips + lines:  # each line measured where it goes: nothing before it depends on its length
            self.asking = (part, at_frames)
            clip = speech(item) if isinstance(item, str) else item
            self.asking = None
            if clip is None:
                continue
            placed.append((at_frames, clip))
            at_frames += clip.length_frames + frames(TALK_GAP_S)
        if end_sound is not None:
            clip = self.sound(end_sound)
            placed.append((at_frames, clip))
            at_frames += clip.length_frames + frames(TAIL_S)
        return placed, at_frames

    def commit(self, kind: StepKind, length: int, requests: list[Request], placed: list[tuple[int, Clip]],
               where: dict) -> None:
        self.cues += placed
        # a dropped cue is recorded in its plainest form (the start or stop beep, the bare number)
        self.dropped += [(r.at_frames, r.forms[-1][1]) for r in requests if r.chosen is None and r.forms]
        self.pending_stop = []
        self.add_step(kind, self.cursor_frames + length, where)

    def timed(self, kind: StepKind, length: int, requests: list[Request], where: dict) -> None:
        """A step of fixed length; cues that do not fit are dropped by priority."""
        start = self.cursor_frames
        self.commit(kind, length, requests, fit(requests, start, start + length, self.fits), where)

    # -- the parts of a session -------------------------------------------------------------
    def prepare(self, ex: Exercise, where: dict) -> None:
        """Set-up time with a short "get ready" count-down."""
        ready = self.said(Priority.KEY, self.script.GET_READY)
        length = frames(ex.setup_s)
        if ready:
            # grow the set-up so "get ready" and a full 3-2-1 both fit
            length = max(length, ready[0][1].length_frames + frames(FLEX_GAP_S) + 3 * SAMPLE_RATE)
        start = self.cursor_frames
        requests = [Request(ready, start)] + self.countdown(start + length, 3, start)
        self.timed(StepKind.PREPARE, length, requests, where)

    def countdown(self, end_frames: int, last: int, floor_frames: int) -> list[Request]:
        """Numbers (or pips without speech) on each of the last seconds before `end_frames`."""
        requests = []
        for k in range(last, 0, -1):
            at_frames = end_frames - k * SAMPLE_RATE
            if at_frames >= floor_frames:
                forms = self.said(Priority.COUNT, self.script.count(k)) or [(Priority.COUNT, self.sound(SOUND_PIP))]
                requests.append(Request(forms, at_frames, order=k, barrier=True))
        return requests

    def dose(self, ex: Exercise, where: dict, voiced: bool = True) -> None:
        """A hold or work period: start cue, counts, markers, tips; the stop cue (spoken if `voiced`) ends it."""
        seconds = ex.dose_s
        start, end = self.cursor_frames, self.cursor_frames + seconds * SAMPLE_RATE
        holding = ex.hold_s is not None
        go = self.said(Priority.KEY, self.script.HOLD if holding else self.script.GO)
        go.append((Priority.KEY, self.sound(SOUND_START)))
        requests = [Request(go, start)]
        if holding and seconds <= 10:
            counted = seconds - 1
        else:
            counted = min(5 if seconds > 10 else 3, seconds - 1)
        if not self.settings.speech:
            counted = min(counted, 3)
        counts = self.countdown(end, counted, start + 1)
        requests += counts
        if seconds > 10:
            for left in range(10, seconds - 2, 10):
                requests.append(Request(self.said(Priority.MARKER, self.script.seconds_left(left)),
                                        end - left * SAMPLE_RATE, order=left))
        quiet_end = min((r.at_frames for r in counts), default=end)
        requests += self.tip(self.tip_text(ex, seconds), start + frames(1.0), quiet_end)
        self.timed(StepKind.HOLD if holding else StepKind.WORK, end - start, requests, where)
        self.pending_stop = self.stop_forms(ex, voiced)

    def stop_forms(self, ex: Exercise, voiced: bool) -> Forms:
        """The stop cue of a dose: spoken if `voiced` and there is room, else the stop beep."""
        spoken = self.said(Priority.VOICE, self.script.RELEASE if ex.hold_s is not None else self.script.STOP)
        return spoken * voiced + [(Priority.KEY, self.sound(SOUND_STOP))]

    def rest(self, seconds: float, where: dict, announce: Forms, milestone: str | None = None,
             ex: Exercise | None = None, required: bool = False, beep: bool = True) -> None:
        """A rest: the stop cue, a beep, a milestone, what comes next, maybe a tip, pips on the last 3 seconds.

        A `required` announcement (the next rep) always sounds: when even the stop beep and its shortest
        form do not fit, the rest grows just enough for them, as set-up and talk do; doses never grow.
        """
        start, length, stop = self.cursor_frames, frames(seconds), self.pending_stop
        tip = self.tip_text(ex, seconds)
        requests = self.rest_requests(start, length, stop, announce, milestone, tip, required, beep)
        placed = fit(requests, start, start + length, self.fits)
        if any(r.required and r.chosen is None for r in requests):
            shortest = stop[-1][1].length_frames + 2 * frames(REP_GAP_S) + announce[-1][1].length_frames
            length = max(length, shortest)
            requests = self.rest_requests(start, length, stop, announce, milestone, tip, required, beep)
            placed = fit(requests, start, start + length, self.fits)
        self.commit(StepKind.REST, length, requests, placed, where)

    def rest_requests(self, start: int, length: int, stop: Forms, announce: Forms, milestone: str | None,
                      tip: str | None, required: bool, beep: bool) -> list[Request]:
        """What a rest would like to sound, in this order: stop cue, beep, milestone, announcement, tip, pips."""
        end, flex = start + length, frames(FLEX_GAP_S)
        requests = [Request(stop, start)] if stop else []
        if beep:
            requests.append(Request([(Priority.MARKER, self.sound(SOUND_REST))], start, fixed=False, order=-1,
                                    seq=SEQ_BEEP, gap_frames=frames(REST_BEEP_GAP_S)))
        if milestone is not None:
            requests.append(Request(self.said(Priority.MILESTONE, milestone), start, fixed=False,
                                    seq=SEQ_MILESTONE, gap_frames=flex))
        if announce:
            requests.append(Request(announce, start, fixed=False, seq=SEQ_NEXT, required=required,
                                    gap_frames=frames(REP_GAP_S) if required else flex))
        pips = [Request([(Priority.MARKER, self.sound(SOUND_PIP))], end - k * SAMPLE_RATE, order=k, barrier=True)
                for k in (3, 2, 1) if end - k * SAMPLE_RATE >= start]
        return requests + self.tip(tip, start, None) + pips

    def series_style(self, ex: Exercise) -> tuple[bool, bool, bool]:
        """The richest rest every rest between a series' reps can keep: (spoken stop, rest beep, sentences).

        Each rest tries it alone first; a form goes from the whole series if one rest lacks room for it,
        so the series sounds the same from its first rest to its last.
        """
        if not self.settings.speech:
            return False, True, False
        voiced = beep = long = True
        length = frames(ex.rest_s)
        for rep in range(2, ex.reps + 1):
            requests = self.rest_requests(0, length, self.stop_forms(ex, True), self.next_rep(ex, rep, plain=True),
                                          None, None, True, True)
            fit(requests, 0, length, self.fits)
            stop, ring, announce = requests[:3]
            voiced &= stop.chosen == 0
            beep &= ring.chosen is not None
            long &= announce.chosen is not None and announce.forms[announce.chosen][0] == Priority.NEXT
        return voiced, beep, long

    def tip_text(self, ex: Exercise | None, seconds: float) -> str | None:
        """The exercise's next tip, taken in turn (none in short steps)."""
        if ex is None or not ex.tips or seconds < MIN_TIP_STEP_S or not self.settings.speech:
            return None
        turn = self.tip_turn.get(ex.name, 0)
        self.tip_turn[ex.name] = turn + 1
        return ex.tips[turn % len(ex.tips)]

    def tip(self, text: str | None, earliest: int, latest_end: int | None) -> list[Request]:
        """A tip said freely between `earliest` and `latest_end`."""
        if text is None:
            return []
        return [Request(self.said(Priority.TIP, text), earliest, fixed=False, seq=SEQ_TIP,
                        latest_end_frames=latest_end, gap_frames=frames(FLEX_GAP_S))]

    def next_rep(self, ex: Exercise, rep: int, long: bool = True, plain: bool = False) -> Forms:
        """Which rep comes next: a sentence if `long` and there is room, else the number or "last one".

        Before the middle rep of a long series it also says "halfway", unless `plain`.
        """
        say = self.script
        if rep == ex.reps:
            sentence, middle, short = say.last_rep(ex.reps, ex.kind), (), (say.LAST_ONE, say.LAST)
        elif ex.reps >= HALFWAY_MIN_REPS and rep == ex.reps // 2 + 1 and not plain:
            sentence, middle, short = say.halfway_next(rep, ex.reps, ex.kind), (say.halfway_number(rep),), (
                say.rep_number(rep),)
        else:
            sentence, middle, short = say.next_rep(rep, ex.reps, ex.kind), (), (say.rep_number(rep),)
        return (self.said(Priority.NEXT, sentence) * long + self.said(Priority.MILESTONE, *middle)
                + self.said(Priority.REP, *short))

    def exercise(self, index: int, ex: Exercise, is_last: bool) -> None:
        start_frames = self.cursor_frames
        base = {"exercise": ex.name, "index": index}
        self.chapters.append((start_frames, self.script.exercise_chapter(index, ex.name), index))
        sides = ex.sides or (None,)
        voiced, beep, long = self.series_style(ex)
        for side_i, side in enumerate(sides):
            where = dict(base, side=side, set=1)
            if side_i == 0:
                self.talk(StepKind.ANNOUNCE, self.script.exercise_lines(self.routine, index, ex), where)
            else:
                self.talk(StepKind.ANNOUNCE, [self.script.switch_side(side)], where)  # type: ignore[arg-type]
            self.prepare(ex, where)
            for set_number in range(1, ex.sets + 1):
                where = dict(base, side=side, set=set_number)
                if set_number > 1:
                    self.rest(ex.set_rest_s, dict(where, set=set_number - 1, rep=ex.reps),
                              self.said(Priority.NEXT, self.script.next_set(set_number, ex.sets)), ex=ex)
                    self.talk(StepKind.ANNOUNCE, [self.script.set_start(set_number, ex.sets)], where)
                    self.prepare(ex, where)
                for rep in range(1, ex.reps + 1):
                    self.dose(ex, dict(where, rep=rep), voiced or rep == ex.reps)
                    if rep < ex.reps:
                        self.rest(ex.rest_s, dict(where, rep=rep), self.next_rep(ex, rep + 1, long), ex=ex,
                                  required=True, beep=beep)
        self.exercises.append((index, ex, start_frames, self.cursor_frames))
        if not is_last:
            following = self.routine.exercises[index]
            self.rest(self.routine.exercise_rest_s,
                      dict(base, side=sides[-1], set=ex.sets, rep=ex.reps, next_index=index + 1),
                      self.said(Priority.NEXT, self.script.next_exercise(following)), self.done(ex))

    def done(self, ex: Exercise) -> str:
        """The wrap-up of an exercise."""
        return self.script.exercise_done(ex.name, ex.reps * ex.sets, ex.kind, len(ex.sides))

    def intro(self, minutes: int, speech: Speech) -> tuple[list, int]:
        """The introduction's cues and its end: its sentences in turn, a second at least."""
        placed, end_frames = self.in_turn(0, [], self.script.intro_lines(self.routine, minutes), speech, part=INTRO)
        return placed, max(end_frames, frames(1.0))

    def close(self, start_frames: int, speech: Speech) -> tuple[list, int]:
        """The close's cues and its end, when it starts at `start_frames`: the last stop cue, the wrap-up."""
        lines = [self.done(self.routine.exercises[-1])] + self.script.close_lines(
            self.routine, start_frames / SAMPLE_RATE, self.settings.skipped)
        clips = [self.pending_stop[0][1]] if self.pending_stop else []
        return self.in_turn(start_frames, clips, lines, speech, SOUND_END, part=CLOSE)

    def minutes(self, minutes: int, speech: Speech) -> int:
        """The minutes the session lasts (at least 1) if the introduction says `minutes`."""
        end_frames = self.close(self.intro(minutes, speech)[1] + self.cursor_frames, speech)[1]
        return max(1, round(end_frames / SAMPLE_RATE / 60))

    def guess_minutes(self) -> int:
        """The minutes the session likely lasts, its introduction and close said at the body's pace."""
        # Seconds from characters, a straight line through the body's clips. plan() checks the guess with
        # the real clip lengths; a good guess spares measuring (maybe rendering) a sentence that is never said.
        said = [(len(text), clip.duration_s) for text, clip in self.clips.items()] or [(0, 0.0)]
        mean_chars, mean_s = (sum(values) / len(said) for values in zip(*said))
        spread = sum((n - mean_chars) ** 2 for n, _ in said)
        per_char_s = sum((n - mean_chars) * (s - mean_s) for n, s in said) / spread if spread else 0.0

        def estimate(text: str) -> Clip | None:
            seconds = max(0.0, mean_s + per_char_s * (len(text) - mean_chars))
            return Clip(CueKind.SPEECH, text, None, seconds, length_frames(seconds)) if self.settings.speech else None
        return _settle(1, lambda guess: self.minutes(guess, estimate))

    def plan(self, minutes: int) -> Plan:
        """The whole session: the introduction saying `minutes`, the body after it, then the close."""
        intro_cues, shift_frames = self.intro(minutes, self.speech)
        self.shift_frames = shift_frames
        close_start = shift_frames + self.cursor_frames
        close_cues, end_frames = self.close(close_start, self.speech)
        steps = [(StepKind.INTRO, 0, shift_frames, {})] + [
            (kind, shift_frames + a, shift_frames + b, where) for kind, a, b, where in self.steps] + [
            (StepKind.CLOSE, close_start, end_frames, {})]
        cues = intro_cues + [(shift_frames + at, clip) for at, clip in self.cues] + close_cues
        return Plan(
            routine=self.routine.id, title=self.routine.title, duration_s=end_frames / SAMPLE_RATE,
            steps=tuple(Step(kind=kind, start_s=a / SAMPLE_RATE, end_s=b / SAMPLE_RATE, exercise=where.get("exercise"),
                             index=where.get("index"), side=where.get("side"), set=where.get("set"),
                             rep=where.get("rep"), next_index=where.get("next_index")) for kind, a, b, where in steps),
            cues=tuple(_cue(at, clip) for at, clip in sorted(cues, key=lambda c: c[0])),
            chapters=(Chapter(0.0, self.script.intro_chapter()),
                      *(Chapter((shift_frames + at) / SAMPLE_RATE, title, exercise=index)
                        for at, title, index in self.chapters),
                      Chapter(close_start / SAMPLE_RATE, self.script.close_chapter())),
            exercises=tuple(ExerciseSummary(
                position=index, name=ex.name, kind=StepKind.HOLD if ex.hold_s is not None else StepKind.WORK,
                sides=ex.sides or (None,), sets=ex.sets, reps=ex.reps, dose_s=ex.dose_s,
                start_s=(shift_frames + a) / SAMPLE_RATE, end_s=(shift_frames + b) / SAMPLE_RATE)
                for index, ex, a, b in self.exercises),
            dropped=tuple(_cue(shift_frames + at, clip) for at, clip in sorted(self.dropped, key=lambda c: c[0])),
            intro_minutes=minutes,
        )

    def needed_s(self) -> dict[str, float]:
        """Each text measured, and the session time from which the plan depends on its length."""
        return {text: (at + self.shift_frames * (part == BODY)) / SAMPLE_RATE
                for text, (part, at) in self.needed.items()}


def _cue(at_frames: int, clip: Clip) -> Cue:
    return Cue(at_s=at_frames / SAMPLE_RATE, duration_s=clip.duration_s, kind=clip.kind, text=clip.text,
               sound=clip.sound)


def plan(routine: Routine, settings: Settings, clip_duration: ClipDuration) -> Plan:
    """The timed plan of a session: steps, cues and chapters. Pure and deterministic."""
    return plan_with_needs(routine, settings, clip_duration)[0]


def plan_with_needs(routine: Routine, settings: Settings, clip_duration: ClipDuration
                    ) -> tuple[Plan, dict[str, float]]:
    """The plan, and for each text it measured the session time from which the plan depends on its length:
    what lies before the earliest such time of a text only estimated is what the real lengths give."""
    body = _Builder(routine, settings, clip_duration)
    for index, ex in enumerate(routine.exercises, start=1):  # laid out from frame 0, the introduction put before
        body.exercise(index, ex, index == len(routine.exercises))
    if settings.intro_minutes is not None:
        return body.plan(settings.intro_minutes), body.needed_s()
    # The introduction says "about N minutes", but N is only known once the session is laid out, and the
    # sentence's own length can move the total across a minute boundary. So start from a guess, measure the
    # session with it (only the introduction and the close change), and stop once the two agree. The sentence
    # changes by a word at most, so this settles in a round or two; REPLAN_LIMIT only guards against a
    # flip-flop right on a boundary, where either answer is within half a minute.
    minutes = _settle(body.guess_minutes(), lambda minutes: body.minutes(minutes, body.speech))
    return body.plan(minutes), body.needed_s()


def _settle(minutes: int, measure: Callable[[int], int]) -> int:
    """Measure with `minutes`, then with the minutes measured, until they agree (REPLAN_LIMIT rounds at most)."""
    for _ in range(REPLAN_LIMIT - 1):
        minutes, before = measure(minutes), minutes
        if minutes == before:
            break
    return minutes
